import { subscriptionDecider, type Subscription } from '../../domain/subscription/decider.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Database } from '../../kernel/db/database.ts';
import type { EventMetadata } from '../../kernel/store/envelope.ts';
import type { EventStore } from '../../kernel/store/event-store.ts';
import { handleCommand } from '../command-handler.ts';
import { subscriptionStream } from '../streams.ts';
import { reschedule } from './renewal-scheduler.ts';
import { loadSubscription } from './subscription-streams.ts';

/** Cancels subscriptions and reads them back; renewals are the scheduler's. */
export class SubscriptionService {
  constructor(private readonly deps: { db: Database; store: EventStore; clock: Clock }) {}

  get(subscriptionId: string): Promise<Subscription> {
    return loadSubscription(this.deps.store, subscriptionId);
  }

  /**
   * Cancels now or at period end. From the request on no renewal is charged; a second request
   * changes nothing (the answer's position is then null).
   */
  async cancel(
    subscriptionId: string,
    request: { atPeriodEnd: boolean; reason?: string },
    metadata: Partial<EventMetadata>,
  ): Promise<{ subscription: Subscription; position: number | null }> {
    const { db, store, clock } = this.deps;
    return db.transaction(async (tx) => {
      const { state, appended } = await handleCommand(
        store,
        subscriptionDecider,
        subscriptionStream(subscriptionId),
        {
          type: 'CancelSubscription',
          data: {
            subscriptionId,
            atPeriodEnd: request.atPeriodEnd,
            reason: request.reason,
            requestedAt: clock.now().toISOString(),
          },
        },
        { tx, metadata },
      );
      await reschedule(tx, subscriptionId, state);
      return { subscription: state, position: appended?.position ?? null };
    });
  }

  async setPaymentMethod(customerId: string, token: string): Promise<void> {
    await this.deps.db.query(
      'insert into payment_methods (customer_id, token) values ($1, $2) on conflict (customer_id) do update set token = excluded.token',
      [customerId, token],
    );
  }
}
