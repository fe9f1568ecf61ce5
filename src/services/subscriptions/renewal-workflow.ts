import { createHash } from 'node:crypto';
import { v5 as uuidv5, v7 as uuidv7 } from 'uuid';
import { subscriptionDecider } from '../../domain/subscription/decider.ts';
import { nextRenewalDue } from '../../domain/subscription/schedule.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Database, Sql } from '../../kernel/db/database.ts';
import type { SagaDefinition, StepResult } from '../../kernel/saga/saga.ts';
import type { EventStore } from '../../kernel/store/event-store.ts';
import { handleCommand } from '../command-handler.ts';
import { chargeOnce } from '../payments/charge-once.ts';
import type { ChargeResult, PaymentGateway } from '../payments/gateway/index.ts';
import { findIntent, openIntent, type PaymentIntent } from '../payments/intents/payment-intent.ts';
import type { PaymentReconciler } from '../payments/intents/payment-reconciler.ts';
import { subscriptionStream } from '../streams.ts';
import { renewalActor, settleRenewalIn } from './renewal-charge.ts';
import { reschedule } from './subscription-timers.ts';
import { loadSubscription } from './subscription-streams.ts';

export const RENEWAL_WORKFLOW = 'renewal';

/** Payment ids of renewals derive from their idempotency key, so a re-run renewal records the same payment. */
const PAYMENT_ID_NAMESPACE = '6f1c1f36-5d4b-4b8e-9a55-2f8d4c1e7a10';

/** What fell due when the renewal's timer fired (`dueRenewal`); no personal data (the card is the gateway's token). */
export interface RenewalState {
  subscriptionId: string;
  /** The charge it makes (period, attempt, amount, key), decided once: a resumed renewal charges the same. */
  intent?: PaymentIntent;
  paymentId?: string;
  customerId?: string;
  /** The subscription, cancelled at period end, ends: its end fell due. */
  end?: boolean;
  /** The charge went through, but the subscription can no longer use it (a cancellation raced it). */
  refundDue?: boolean;
}

/**
 * One workflow per timer that falls due: its id derives from the subscription and the due time,
 * so a scheduler that claims a timer again after a crash joins the same workflow (and charges
 * the same key). Sorted like a UUIDv7 by the due time.
 */
export const renewalWorkflowId = (subscriptionId: string, dueAt: Date): string =>
  uuidv7({
    msecs: dueAt.getTime(),
    random: createHash('sha256').update(`${subscriptionId}@${dueAt.toISOString()}`).digest().subarray(0, 16),
  });

export interface RenewalWorkflowDeps {
  db: Database;
  store: EventStore;
  clock: Clock;
  gateway: PaymentGateway;
  /** Days after the renewal date on which a declined renewal is retried. */
  dunningDays: number[];
  /** Refunds charges that can no longer be used; retries them when the gateway refuses. */
  payments: PaymentReconciler;
  /** The tax rate a renewal charge records (TAX_RATE_BPS). */
  taxRateBps: number;
}

/**
 * What falls due for a subscription whose timer fired, decided from its stream: its end (it was
 * cancelled at period end), the charge due (period, attempt, amount, key), or nothing (its timer
 * is moved to where it belongs). The workflow's input: a workflow resumed after a crash charges
 * what was decided here.
 */
export async function dueRenewal(
  deps: Pick<RenewalWorkflowDeps, 'db' | 'store' | 'clock' | 'taxRateBps'>,
  subscriptionId: string,
  workflowId: string,
): Promise<RenewalState | null> {
  const { db, store, clock } = deps;
  const subscription = await loadSubscription(store, subscriptionId);
  const now = clock.now().getTime();
  const nothing = async () => {
    await reschedule(db, subscriptionId, subscription);
    return null;
  };
  if (subscription.status === 'none') return nothing();
  const { cancelAt, status } = subscription;
  if (cancelAt && now >= Date.parse(cancelAt) && (status === 'active' || status === 'past_due'))
    return { subscriptionId, customerId: subscription.customerId, end: true };
  const due = nextRenewalDue(subscription);
  if (!due || now < Date.parse(due.dueAt)) return nothing();
  const idempotencyKey =
    due.attempt === 1 ? `${subscriptionId}:${due.periodIndex}` : `${subscriptionId}:${due.periodIndex}:${due.attempt}`;
  const { rows } = await db.query<{ token: string }>('select token from payment_methods where customer_id = $1', [
    subscription.customerId,
  ]);
  const intent: PaymentIntent = {
    idempotencyKey,
    flowType: 'renewal',
    flowId: workflowId,
    paymentId: uuidv5(idempotencyKey, PAYMENT_ID_NAMESPACE),
    customerId: subscription.customerId,
    subscriptionId,
    amount: due.amount,
    currency: due.currency,
    purpose: 'renewal',
    periodIndex: due.periodIndex,
    attempt: due.attempt,
    taxRateBps: deps.taxRateBps,
    paymentMethod: rows[0]?.token ?? 'none',
    description: `Renewal of ${subscriptionId}, period ${due.periodIndex}`,
  };
  return { subscriptionId, customerId: subscription.customerId, paymentId: intent.paymentId, intent };
}

/**
 * end (local: the subscription cancelled at period end ends) | charge (external: the intent, the
 * gateway, and the outcome recorded with what it does to the subscription: renewed, past due or
 * cancelled by dunning) → refund (external: a charge the subscription can no longer use, because
 * a cancellation raced it, is given back). A step with nothing to do is passed over. Declines are
 * not failures: dunning is the renewal's business. A step that keeps erroring fails the workflow,
 * and the scheduler tries the timer again later with the same charge key.
 */
export function renewalWorkflow(deps: RenewalWorkflowDeps): SagaDefinition<RenewalState> {
  const { db, store, clock, gateway } = deps;
  return {
    type: RENEWAL_WORKFLOW,
    steps: [
      {
        name: 'end',
        local: true,
        skip: (state) => !state.end,
        async run({ sagaId, state: { subscriptionId } }, tx): Promise<StepResult<RenewalState>> {
          const metadata = { correlationId: subscriptionId, causationId: null, actor: renewalActor(sagaId) };
          const endedAt = clock.now().toISOString();
          const { state: ended } = await handleCommand(
            store,
            subscriptionDecider,
            subscriptionStream(subscriptionId),
            { type: 'EndSubscription', data: { subscriptionId, endedAt } },
            { tx, metadata },
          );
          await reschedule(tx!, subscriptionId, ended);
          return ok;
        },
      },
      {
        name: 'charge',
        local: false,
        timeoutMs: 15_000,
        skip: (state) => !state.intent,
        async run({ state: { intent } }): Promise<StepResult<RenewalState>> {
          const result = await charge(db, gateway, intent!);
          // Recorded with the step's checkpoint, or by an attempt that outlived its timeout when it lands.
          const outcome = async (tx: Sql) =>
            (await settleRenewalIn(deps, tx, intent!, result)) === 'refund_due' ? { refundDue: true } : {};
          return { ok: {}, outcome };
        },
      },
      {
        name: 'refund',
        local: false,
        skip: (state) => !state.refundDue,
        async run({ state: { intent } }): Promise<StepResult<RenewalState>> {
          // Charged for a renewal that can no longer complete (cancelled meanwhile): a refund workflow gives it back.
          const stored = await findIntent(db, intent!.idempotencyKey);
          if (stored?.status === 'refund_due') await deps.payments.refund(stored);
          return ok;
        },
      },
    ],
  };
}

const ok = { ok: {} };

/** The intent, durable before the call (a process that dies with the charge in flight leaves it to be settled), then the charge. */
async function charge(db: Database, gateway: PaymentGateway, intent: PaymentIntent): Promise<ChargeResult> {
  const { idempotencyKey, paymentMethod } = intent;
  if (paymentMethod === 'none')
    return {
      status: 'declined',
      chargeId: `none:${idempotencyKey}`,
      declineCode: 'generic_decline',
      message: 'no payment method on file',
    };
  await openIntent(db, intent);
  return chargeOnce(gateway, {
    idempotencyKey,
    amount: intent.amount,
    currency: intent.currency,
    paymentMethod,
    customerId: intent.customerId,
    description: intent.description,
  });
}
