import { paymentDecider } from '../../../domain/payment/decider.ts';
import type { Clock } from '../../../kernel/clock.ts';
import type { Database } from '../../../kernel/db/database.ts';
import type { EventStore } from '../../../kernel/store/event-store.ts';
import { handleCommand } from '../../command-handler.ts';
import { paymentStream } from '../../streams.ts';
import { chargeResultOf, type PaymentGateway } from '../gateway/index.ts';
import { recordChargeOutcome } from './charge-records.ts';
import { settleIntent, type StoredIntent } from './payment-intent.ts';

export interface RefundDeps {
  db: Database;
  store: EventStore;
  gateway: PaymentGateway;
  clock: Clock;
}

/**
 * Refunds a charge its flow can no longer use (a cancellation raced the renewal, the registration
 * compensated) and records it: the charge's PaymentProcessed (if the flow had not recorded it) and
 * PaymentRefunded, so invoices and the ledger see the charge and its reversal. The refund's own
 * idempotency key (`<charge key>:refund`) makes a repeat refund nothing twice. `actor`: who
 * refunds (the flow itself, or a refund workflow), in the records' metadata.
 */
export async function refundIntent(
  deps: RefundDeps,
  intent: StoredIntent,
  actor = `${intent.flowType}:${intent.flowId}`,
): Promise<'refunded' | 'declined' | 'not_at_gateway'> {
  const { db, store, gateway, clock } = deps;
  const charge = await gateway.retrieve(intent.idempotencyKey);
  const now = () => clock.now();
  // Not at the gateway (yet): the intent stays as it is; the reconciler looks again after its window.
  if (!charge) return 'not_at_gateway';
  if (charge.status !== 'succeeded') {
    // Declined: nothing was captured, nothing to give back.
    await settleIntent(db, intent.idempotencyKey, { status: 'declined', chargeId: charge.chargeId });
    return 'declined';
  }
  // A repeat with the same key answers the first refund: a crash after it refunds nothing twice.
  const refund = await gateway.refund({ idempotencyKey: `${intent.idempotencyKey}:refund`, chargeId: charge.chargeId });
  const metadata = { correlationId: intent.flowId, causationId: null, actor };
  await db.transaction(async (tx) => {
    const at = now().toISOString();
    await recordChargeOutcome(store, tx, intent, chargeResultOf(charge), at, metadata);
    const reason = intent.refundReason ?? `${intent.flowType}_failed`;
    const data = { paymentId: intent.paymentId, reason, gatewayReference: refund.refundId, refundedAt: at };
    await handleCommand(
      store,
      paymentDecider,
      paymentStream(intent.paymentId),
      { type: 'RefundPayment', data },
      { tx, metadata },
    );
    await settleIntent(tx, intent.idempotencyKey, { status: 'refunded', chargeId: charge.chargeId });
  });
  return 'refunded';
}
