import { customerDecider } from '../../domain/customer/decider.ts';
import { NotFoundError } from '../../domain/errors.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Database } from '../../kernel/db/database.ts';
import type { EventMetadata } from '../../kernel/store/envelope.ts';
import type { EventStore } from '../../kernel/store/event-store.ts';
import { forgetRecipient } from '../../reactions/email/notification-log.ts';
import { handleCommand } from '../command-handler.ts';
import { customerStream } from '../streams.ts';
import type { SubscriptionService } from '../subscriptions/subscription-service.ts';
import { loadSubscription } from '../subscriptions/subscription-streams.ts';
import { shred } from './pii.ts';

export interface ErasureResult {
  customerId: string;
  /** Whether this call deleted the key (false: it was already gone). */
  keyDeleted: boolean;
  /** Null when the customer was already deleted. */
  deletedPosition: number | null;
  cancelledSubscriptions: string[];
}

/** The subscriptions a customer ever had (from the log: there is no customer → subscriptions index yet). */
export async function subscriptionsOf(db: Database, customerId: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `select distinct data->>'subscriptionId' as id from events where type = 'SubscriptionCreated' and data->>'customerId' = $1`,
    [customerId],
  );
  return rows.map((row) => row.id);
}

/**
 * Erasure by crypto-shredding, idempotent: deletes the customer's key, forgets the addresses in the
 * notification log and the email claim, appends CustomerDeleted (reason `erasure`) in one
 * transaction, then cancels its active subscriptions immediately.
 */
export async function eraseCustomer(
  deps: { db: Database; store: EventStore; clock: Clock; subscriptions: Pick<SubscriptionService, 'cancel'> },
  customerId: string,
  metadata: Partial<EventMetadata>,
): Promise<ErasureResult> {
  const { db, store, clock } = deps;
  const { keyDeleted, position } = await db.transaction(async (tx) => {
    const history = await store.readStream(customerStream(customerId), { tx });
    if (history.length === 0) throw new NotFoundError('customer', 'customer_not_found', `customer ${customerId} does not exist`);
    const keyDeleted = await shred(customerId, tx);
    await forgetRecipient(tx, customerId);
    await tx.query('delete from customer_emails where customer_id = $1', [customerId]);
    // The registration saga kept the request (email, name) as its state: a finished one no longer needs them.
    await tx.query(
      `update sagas set state = state - 'email' - 'name' where type = 'registration' and state->>'customerId' = $1 and status in ('completed', 'compensated', 'compensation_failed')`,
      [customerId],
    );
    const { appended } = await handleCommand(store, customerDecider, customerStream(customerId), { type: 'DeleteCustomer', data: { customerId, reason: 'erasure', deletedAt: clock.now().toISOString() } }, { tx, metadata });
    return { keyDeleted, position: appended?.position ?? null };
  });
  const cancelled: string[] = [];
  for (const subscriptionId of await subscriptionsOf(db, customerId)) {
    const subscription = await loadSubscription(store, subscriptionId);
    // Active (even if cancelled at period end: the end is brought forward) or past due → cancelled now.
    if (subscription.status !== 'active' && subscription.status !== 'past_due') continue;
    await deps.subscriptions.cancel(subscriptionId, { atPeriodEnd: false, reason: 'customer_erased' }, metadata);
    cancelled.push(subscriptionId);
  }
  return { customerId, keyDeleted, deletedPosition: position, cancelledSubscriptions: cancelled };
}
