import { customerDecider } from '../../domain/customer/decider.ts';
import { subscriptionDecider } from '../../domain/subscription/decider.ts';
import type { Clock } from '../../kernel/clock.ts';
import { shred } from '../../kernel/crypto/personal-data.ts';
import type { Sql } from '../../kernel/db/database.ts';
import type { SagaDefinition, StepResult } from '../../kernel/saga/saga.ts';
import type { EventMetadata } from '../../kernel/store/envelope.ts';
import type { EventStore } from '../../kernel/store/event-store.ts';
import { handleCommand } from '../command-handler.ts';
import { customerStream, subscriptionStream } from '../streams.ts';
import { reschedule } from '../subscriptions/renewal-scheduler.ts';
import { loadSubscription } from '../subscriptions/subscription-streams.ts';

export const ERASURE_SAGA = 'erasure';

/** The erasure's input (no personal data: only the id) and what each step found. */
export interface ErasureState {
  customerId: string;
  metadata: Partial<EventMetadata>;
  cancelledSubscriptions?: string[];
  keyDeleted?: boolean;
  deletedPosition?: number | null;
}

/** The subscriptions a customer ever had (from the log: there is no customer → subscriptions index yet). */
export async function subscriptionsOf(sql: Sql, customerId: string): Promise<string[]> {
  const { rows } = await sql.query<{ id: string }>(
    `select distinct data->>'subscriptionId' as id from events where type = 'SubscriptionCreated' and data->>'customerId' = $1`,
    [customerId],
  );
  return rows.map((row) => row.id);
}

// Erasure has nothing to undo: a step that keeps failing is retried for minutes, and each is idempotent.
const retry = { maxAttempts: 20, baseDelayMs: 100, maxDelayMs: 10_000 };

/**
 * Erasure (right to be forgotten) as a durable saga, so a crash between its steps finishes it on
 * restart instead of leaving a subscription active or a key behind: cancel the subscriptions now,
 * shred the key (and the email claim), then revoke the tokens by recording CustomerDeleted with
 * reason `erasure`, the event token checks and reactions (the notification log) follow. Every step
 * is a local one (its effect and its checkpoint commit together) and repeats as a no-op.
 */
export function erasureSaga(deps: { store: EventStore; clock: Clock }): SagaDefinition<ErasureState> {
  const { store, clock } = deps;
  const now = () => clock.now().toISOString();
  return {
    type: ERASURE_SAGA,
    steps: [
      {
        name: 'cancel-subscriptions',
        local: true,
        retry,
        async run({ state }, tx): Promise<StepResult<ErasureState>> {
          const cancelled: string[] = [];
          for (const subscriptionId of await subscriptionsOf(tx!, state.customerId)) {
            const subscription = await loadSubscription(store, subscriptionId, tx);
            // Active (even if cancelled at period end: the end is brought forward) or past due → cancelled now.
            if (subscription.status !== 'active' && subscription.status !== 'past_due') continue;
            const command = {
              type: 'CancelSubscription' as const,
              data: { subscriptionId, atPeriodEnd: false, reason: 'customer_erased', requestedAt: now() },
            };
            const handled = await handleCommand(
              store,
              subscriptionDecider,
              subscriptionStream(subscriptionId),
              command,
              {
                tx,
                metadata: state.metadata,
              },
            );
            await reschedule(tx!, subscriptionId, handled.state);
            cancelled.push(subscriptionId);
          }
          return { ok: { cancelledSubscriptions: cancelled } };
        },
      },
      {
        name: 'shred-key',
        local: true,
        retry,
        async run({ state }, tx): Promise<StepResult<ErasureState>> {
          const keyDeleted = await shred(state.customerId, tx!);
          await tx!.query('delete from customer_emails where customer_id = $1', [state.customerId]);
          // The registration saga kept the request (email, name) as its state: a finished one no longer needs them.
          await tx!.query(
            `update sagas set state = state - 'email' - 'name'
             where type = 'registration' and state->>'customerId' = $1 and status in ('completed', 'compensated', 'compensation_failed')`,
            [state.customerId],
          );
          return { ok: { keyDeleted } };
        },
      },
      {
        name: 'revoke-tokens',
        local: true,
        retry,
        async run({ state }, tx): Promise<StepResult<ErasureState>> {
          const command = {
            type: 'DeleteCustomer' as const,
            data: { customerId: state.customerId, reason: 'erasure' as const, deletedAt: now() },
          };
          const { appended } = await handleCommand(store, customerDecider, customerStream(state.customerId), command, {
            tx,
            metadata: state.metadata,
          });
          return { ok: { deletedPosition: appended?.position ?? null } };
        },
      },
    ],
  };
}
