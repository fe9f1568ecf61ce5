import { v5 as uuidv5 } from 'uuid';
import { subscriptionDecider } from '../../domain/subscription/decider.ts';
import { nextRenewalDue } from '../../domain/subscription/schedule.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Database } from '../../kernel/db/database.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { EventStore } from '../../kernel/store/event-store.ts';
import { handleCommand } from '../command-handler.ts';
import { chargeOnce } from '../payments/charge-once.ts';
import type { ChargeResult, PaymentGateway } from '../payments/gateway/index.ts';
import { findIntent, openIntent, type PaymentIntent } from '../payments/intents/payment-intent.ts';
import type { PaymentReconciler } from '../payments/intents/payment-reconciler.ts';
import { subscriptionStream } from '../streams.ts';
import { settleRenewalCharge } from './renewal-charge.ts';
import { reschedule } from './subscription-timers.ts';
import { loadSubscription } from './subscription-streams.ts';

/** Payment ids of renewals derive from their idempotency key, so a re-run job records the same payment. */
const PAYMENT_ID_NAMESPACE = '6f1c1f36-5d4b-4b8e-9a55-2f8d4c1e7a10';

export { nextTimer, reschedule } from './subscription-timers.ts';

export interface RenewalSchedulerDeps {
  db: Database;
  store: EventStore;
  clock: Clock;
  gateway: PaymentGateway;
  log: Logger;
  /** Days after the renewal date on which a declined renewal is retried. */
  dunningDays: number[];
  /** Refunds charges that can no longer be used; retries them when the gateway refuses. */
  payments: PaymentReconciler;
}

/**
 * Charges renewals when periods end, retries declined ones on the dunning schedule, cancels when
 * it is exhausted, and ends subscriptions cancelled at period end. Every charge's idempotency key
 * is `subscriptionId:periodIndex` (`:attempt` for retries), so a job that runs twice charges once.
 */
export class RenewalScheduler {
  constructor(private readonly deps: RenewalSchedulerDeps) {}

  /** Runs every job due at or before `at`, earliest first; returns how many ran. */
  async runDue(at: Date): Promise<number> {
    let ran = 0;
    const seen = new Set<string>();
    for (;;) {
      const { rows } = await this.deps.db.query<{ subscription_id: string; due_at: Date }>(
        'select subscription_id, due_at from subscription_timers where due_at <= $1 order by due_at, subscription_id limit 1',
        [at],
      );
      const job = rows[0];
      if (!job) return ran;
      const attemptKey = `${job.subscription_id}@${job.due_at.toISOString()}`;
      if (seen.has(attemptKey)) {
        // The job did not move its timer (it failed): look again later rather than loop.
        await this.deps.db.query('update subscription_timers set due_at = $2 where subscription_id = $1', [job.subscription_id, new Date(at.getTime() + 3600_000)]);
        continue;
      }
      seen.add(attemptKey);
      try {
        await this.process(job.subscription_id);
      } catch (error) {
        this.deps.log.error({ err: error, subscriptionId: job.subscription_id }, 'renewal job failed; retrying in an hour');
      }
      ran++;
    }
  }

  private async process(subscriptionId: string): Promise<void> {
    const { db, store, clock } = this.deps;
    const state = await loadSubscription(store, subscriptionId);
    const now = clock.now();
    if (state.status === 'none') return void (await reschedule(db, subscriptionId, state));
    const metadata = { correlationId: subscriptionId, causationId: null, actor: 'scheduler:renewals' };

    if (state.cancelAt && now.getTime() >= Date.parse(state.cancelAt) && (state.status === 'active' || state.status === 'past_due')) {
      await db.transaction(async (tx) => {
        const { state: ended } = await handleCommand(store, subscriptionDecider, subscriptionStream(subscriptionId), { type: 'EndSubscription', data: { subscriptionId, endedAt: now.toISOString() } }, { tx, metadata });
        await reschedule(tx, subscriptionId, ended);
      });
      return;
    }

    const due = nextRenewalDue(state);
    if (!due || now.getTime() < Date.parse(due.dueAt)) return void (await reschedule(db, subscriptionId, state));

    const idempotencyKey = due.attempt === 1 ? `${subscriptionId}:${due.periodIndex}` : `${subscriptionId}:${due.periodIndex}:${due.attempt}`;
    const token = (await db.query<{ token: string }>('select token from payment_methods where customer_id = $1', [state.customerId])).rows[0]?.token;
    const intent: PaymentIntent = {
      idempotencyKey,
      flowType: 'renewal',
      flowId: subscriptionId,
      paymentId: uuidv5(idempotencyKey, PAYMENT_ID_NAMESPACE),
      customerId: state.customerId,
      subscriptionId,
      amount: due.amount,
      currency: due.currency,
      purpose: 'renewal',
      periodIndex: due.periodIndex,
      attempt: due.attempt,
      paymentMethod: token ?? 'none',
      description: `Renewal of ${subscriptionId}, period ${due.periodIndex}`,
    };
    let result: ChargeResult;
    if (token) {
      // The intent is durable before the call: if this process dies with the charge in flight, the reconciler settles it.
      await openIntent(db, intent);
      result = await chargeOnce(this.deps.gateway, { idempotencyKey, amount: due.amount, currency: due.currency, paymentMethod: token, customerId: state.customerId, description: intent.description });
    } else {
      result = { status: 'declined', chargeId: `none:${idempotencyKey}`, declineCode: 'generic_decline', message: 'no payment method on file' };
    }
    const status = await settleRenewalCharge(this.deps, intent, result);
    // Charged for a renewal that can no longer complete (cancelled meanwhile): give it back now, or the reconciler will.
    if (status === 'refund_due') {
      const stored = await findIntent(db, idempotencyKey);
      if (stored) await this.deps.payments.refund(stored);
    }
  }
}
