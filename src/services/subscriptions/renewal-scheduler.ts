import { v5 as uuidv5, v7 as uuidv7 } from 'uuid';
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
import { claimDueTimers, postponeTimer, releaseTimer } from './timer-claims.ts';

/** How long a claimed timer stays another scheduler's, by the platform clock: far longer than a batch takes. */
const CLAIM_LEASE_MS = 5 * 60_000;

/** Runs `work` on every item, at most `limit` at a time. */
async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
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
  /** The tax rate a renewal charge records (TAX_RATE_BPS). */
  taxRateBps: number;
  /** Timers claimed per batch (100) and renewals of a batch run at once (4). */
  batchSize?: number;
  concurrency?: number;
}

/**
 * Charges renewals when periods end, retries declined ones on the dunning schedule, cancels when
 * it is exhausted, and ends subscriptions cancelled at period end. Every charge's idempotency key
 * is `subscriptionId:periodIndex` (`:attempt` for retries), so a job that runs twice charges once.
 */
export class RenewalScheduler {
  constructor(private readonly deps: RenewalSchedulerDeps) {}

  private readonly owner = `scheduler:${uuidv7()}`;

  /**
   * Runs every job due at or before `at` that no other scheduler has claimed, earliest first, in
   * batches claimed with FOR UPDATE SKIP LOCKED; returns how many ran here.
   */
  async runDue(at: Date): Promise<number> {
    const { db, clock } = this.deps;
    const batchSize = this.deps.batchSize ?? 100;
    let ran = 0;
    const seen = new Set<string>();
    for (;;) {
      const claimed = await claimDueTimers(db, {
        at,
        now: clock.now(),
        owner: this.owner,
        leaseMs: CLAIM_LEASE_MS,
        limit: batchSize,
      });
      if (claimed.length === 0) return ran;
      await forEachConcurrently(claimed, this.deps.concurrency ?? 4, async (job) => {
        const attemptKey = `${job.subscriptionId}@${job.dueAt.toISOString()}`;
        try {
          // The job did not move its timer the first time (it failed): look again later rather than loop.
          if (seen.has(attemptKey))
            return void (await postponeTimer(db, job.subscriptionId, new Date(at.getTime() + 3600_000)));
          seen.add(attemptKey);
          ran++;
          await this.process(job.subscriptionId);
        } catch (error) {
          this.deps.log.error(
            { err: error, subscriptionId: job.subscriptionId },
            'renewal job failed; retrying in an hour',
          );
        } finally {
          await releaseTimer(db, job.subscriptionId, this.owner);
        }
      });
    }
  }

  private async process(subscriptionId: string): Promise<void> {
    const { db, store, clock } = this.deps;
    const state = await loadSubscription(store, subscriptionId);
    const now = clock.now();
    if (state.status === 'none') return void (await reschedule(db, subscriptionId, state));
    const metadata = { correlationId: subscriptionId, causationId: null, actor: 'scheduler:renewals' };

    if (
      state.cancelAt &&
      now.getTime() >= Date.parse(state.cancelAt) &&
      (state.status === 'active' || state.status === 'past_due')
    ) {
      await db.transaction(async (tx) => {
        const { state: ended } = await handleCommand(
          store,
          subscriptionDecider,
          subscriptionStream(subscriptionId),
          { type: 'EndSubscription', data: { subscriptionId, endedAt: now.toISOString() } },
          { tx, metadata },
        );
        await reschedule(tx, subscriptionId, ended);
      });
      return;
    }

    const due = nextRenewalDue(state);
    if (!due || now.getTime() < Date.parse(due.dueAt)) return void (await reschedule(db, subscriptionId, state));

    const idempotencyKey =
      due.attempt === 1
        ? `${subscriptionId}:${due.periodIndex}`
        : `${subscriptionId}:${due.periodIndex}:${due.attempt}`;
    const token = (
      await db.query<{ token: string }>('select token from payment_methods where customer_id = $1', [state.customerId])
    ).rows[0]?.token;
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
      taxRateBps: this.deps.taxRateBps,
      paymentMethod: token ?? 'none',
      description: `Renewal of ${subscriptionId}, period ${due.periodIndex}`,
    };
    let result: ChargeResult;
    if (token) {
      // The intent is durable before the call: if this process dies with the charge in flight, the reconciler settles it.
      await openIntent(db, intent);
      result = await chargeOnce(this.deps.gateway, {
        idempotencyKey,
        amount: due.amount,
        currency: due.currency,
        paymentMethod: token,
        customerId: state.customerId,
        description: intent.description,
      });
    } else {
      result = {
        status: 'declined',
        chargeId: `none:${idempotencyKey}`,
        declineCode: 'generic_decline',
        message: 'no payment method on file',
      };
    }
    const status = await settleRenewalCharge(this.deps, intent, result);
    // Charged for a renewal that can no longer complete (cancelled meanwhile): give it back now, or the reconciler will.
    if (status === 'refund_due') {
      const stored = await findIntent(db, idempotencyKey);
      if (stored) await this.deps.payments.refund(stored);
    }
  }
}
