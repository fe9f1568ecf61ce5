import { subscriptionDecider, type Subscription } from '../../domain/subscription/decider.ts';
import type { SubscriptionEvent } from '../../domain/subscription/events.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Database, Sql } from '../../kernel/db/database.ts';
import { isInFlight, lockSagaStatus } from '../../kernel/saga/saga-status.ts';
import { ConcurrencyError } from '../../kernel/store/errors.ts';
import type { EventStore } from '../../kernel/store/event-store.ts';
import { handleCommand } from '../command-handler.ts';
import type { ChargeResult } from '../payments/gateway/index.ts';
import { recordChargeOutcome } from '../payments/intents/charge-records.ts';
import { settleIntent, type IntentStatus, type PaymentIntent } from '../payments/intents/payment-intent.ts';
import { subscriptionStream } from '../streams.ts';
import { reschedule } from './subscription-timers.ts';

const DAY_MS = 24 * 3600 * 1000;

export interface RenewalChargeDeps {
  db: Database;
  store: EventStore;
  clock: Clock;
  /** Days after the renewal date on which a declined renewal is retried. */
  dunningDays: number[];
}

/** The actor of what a renewal workflow records (its history is what this actor wrote). */
export const renewalActor = (workflowId: string): string => `renewal:${workflowId}`;

/**
 * The reconciler's answer for a renewal charge found without an outcome: a renewal workflow
 * still running records it itself (null); otherwise it is settled as the workflow would have
 * (`settleRenewalIn`). Returns the intent's new status.
 */
export async function settleRenewalCharge(
  deps: RenewalChargeDeps,
  intent: PaymentIntent,
  result: ChargeResult,
): Promise<IntentStatus | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await deps.db.transaction(async (tx) => {
        if (isInFlight(await lockSagaStatus(tx, intent.flowId))) return null;
        return settleRenewalIn(deps, tx, intent, result);
      });
    } catch (error) {
      // A cancellation committed between the read and the append: decide again on what it wrote.
      if (!(error instanceof ConcurrencyError) || attempt >= 5) throw error;
    }
  }
}

/**
 * Records a renewal charge's outcome with what it does to the subscription, in `tx`: renewed, or
 * past due (dunning) / cancelled for non-payment. A charge that went through for a renewal that
 * can no longer complete (the subscription was cancelled while the charge was at the gateway, or
 * the period was already paid) is recorded and marked `refund_due`: never left silent. Returns
 * the intent's new status.
 */
export async function settleRenewalIn(
  deps: RenewalChargeDeps,
  tx: Sql,
  intent: PaymentIntent,
  result: ChargeResult,
): Promise<IntentStatus> {
  const { store, clock } = deps;
  const subscriptionId = intent.subscriptionId!;
  const events = (await store.readStream(subscriptionStream(subscriptionId), { tx })) as unknown as SubscriptionEvent[];
  const state = events.reduce(subscriptionDecider.evolve, subscriptionDecider.initialState);
  const now = clock.now();
  const at = now.toISOString();
  const metadata = { correlationId: subscriptionId, causationId: null, actor: renewalActor(intent.flowId) };
  await recordChargeOutcome(store, tx, intent, result, at, metadata);
  const settle = async (status: IntentStatus, refundReason?: string) => {
    await settleIntent(tx, intent.idempotencyKey, { status, chargeId: result.chargeId, refundReason });
    return status;
  };
  // The stream was just read in this transaction: the commands append on that version, without reading it again.
  const command = { tx, metadata, loaded: { state, version: events.length } };
  const { periodIndex, paymentId, amount, currency } = intent;

  if (result.status === 'succeeded') {
    const paidBy = events.find(
      (event): event is Extract<SubscriptionEvent, { type: 'SubscriptionRenewed' }> =>
        event.type === 'SubscriptionRenewed' && event.data.periodIndex === periodIndex,
    );
    if (paidBy) return settle(paidBy.data.paymentId === paymentId ? 'succeeded' : 'refund_due', 'period_already_paid');
    if (!renewable(state, periodIndex)) return settle('refund_due', 'renewal_after_cancellation');
    const renew = {
      type: 'RenewSubscription' as const,
      data: { subscriptionId, periodIndex, paymentId, amount, currency, renewedAt: at },
    };
    const { state: next } = await handleCommand(
      store,
      subscriptionDecider,
      subscriptionStream(subscriptionId),
      renew,
      command,
    );
    await reschedule(tx, subscriptionId, next);
    return settle('succeeded');
  }
  if (!renewable(state, periodIndex)) return settle('declined');
  const retryDay = deps.dunningDays[intent.attempt - 1];
  // Retries count from the renewal date, the end of the unpaid period.
  const renewalDate = state.status === 'none' ? now.getTime() : Date.parse(state.currentPeriod.end);
  const nextRetryAt = retryDay === undefined ? null : new Date(renewalDate + retryDay * DAY_MS).toISOString();
  const failed = {
    type: 'RecordRenewalFailed' as const,
    data: {
      subscriptionId,
      periodIndex,
      paymentId,
      attempt: intent.attempt,
      declineCode: result.declineCode,
      failedAt: at,
      nextRetryAt,
    },
  };
  const { state: next } = await handleCommand(
    store,
    subscriptionDecider,
    subscriptionStream(subscriptionId),
    failed,
    command,
  );
  await reschedule(tx, subscriptionId, next);
  return settle('declined');
}

/** The renewal of `periodIndex` can still be recorded: the subscription runs, uncancelled, in the period before. */
const renewable = (state: Subscription, periodIndex: number): boolean =>
  state.status !== 'none' &&
  state.cancellation === null &&
  (state.status === 'active' || state.status === 'past_due') &&
  state.periodIndex === periodIndex - 1;
