import type { Clock } from '../../kernel/clock.ts';
import type { Database } from '../../kernel/db/database.ts';
import { isInFlight, lockSagaStatus } from '../../kernel/saga/saga-status.ts';
import type { EventStore } from '../../kernel/store/event-store.ts';
import type { ChargeResult } from '../payments/gateway/index.ts';
import { recordChargeOutcome } from '../payments/intents/charge-records.ts';
import { settleIntent, type IntentStatus, type PaymentIntent } from '../payments/intents/payment-intent.ts';

/**
 * The reconciler's answer for a registration charge found without an outcome: a registration
 * still running (or compensating) records it itself (null); a completed one had recorded it; one
 * that compensated (or is parked) cannot use it: recorded, and refunded (`refund_due`).
 */
export async function settleRegistrationCharge(
  deps: { db: Database; store: EventStore; clock: Clock },
  intent: PaymentIntent,
  result: ChargeResult,
): Promise<IntentStatus | null> {
  const { db, store, clock } = deps;
  return db.transaction(async (tx) => {
    const saga = await lockSagaStatus(tx, intent.flowId);
    if (isInFlight(saga)) return null;
    const metadata = { correlationId: intent.flowId, causationId: null, actor: `registration:${intent.flowId}` };
    await recordChargeOutcome(store, tx, intent, result, clock.now().toISOString(), metadata);
    const status: IntentStatus =
      result.status === 'declined' ? 'declined' : saga === 'completed' ? 'succeeded' : 'refund_due';
    await settleIntent(tx, intent.idempotencyKey, {
      status,
      chargeId: result.chargeId,
      refundReason: 'registration_failed',
    });
    return status;
  });
}
