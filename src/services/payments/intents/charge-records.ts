import { paymentDecider } from '../../../domain/payment/decider.ts';
import type { Sql } from '../../../kernel/db/database.ts';
import type { DeferredWrites } from '../../../kernel/store/deferred-writes.ts';
import type { EventMetadata } from '../../../kernel/store/envelope.ts';
import type { EventStore } from '../../../kernel/store/event-store.ts';
import { handleCommand } from '../../command-handler.ts';
import { paymentStream } from '../../streams.ts';
import type { ChargeResult } from '../gateway/index.ts';
import type { PaymentIntent } from './payment-intent.ts';

/**
 * Records a charge's outcome on its payment stream: PaymentProcessed or PaymentFailed. Idempotent
 * (the same gateway reference records nothing new), so the flow and the reconciler may both call it.
 * `newStream`: the caller knows nobody has recorded it yet (the stream is not read; if it exists
 * after all, the append fails). `defer`: the append is made with the caller's checkpoint.
 */
export async function recordChargeOutcome(
  store: EventStore,
  tx: Sql,
  intent: PaymentIntent,
  result: ChargeResult,
  at: string,
  metadata: Partial<EventMetadata>,
  newStream = false,
  defer?: DeferredWrites,
): Promise<void> {
  const { paymentId, customerId, subscriptionId, amount, currency, purpose } = intent;
  const details = { paymentId, customerId, subscriptionId, amount, currency, purpose };
  const stream = paymentStream(paymentId);
  const options = { tx, metadata, newStream, defer };
  if (result.status === 'declined') {
    const data = {
      ...details,
      declineCode: result.declineCode,
      message: result.message,
      attempt: intent.attempt,
      failedAt: at,
    };
    await handleCommand(store, paymentDecider, stream, { type: 'RecordPaymentFailed', data }, options);
    return;
  }
  const paymentMethod = { brand: result.brand, last4: result.last4, tokenId: intent.paymentMethod };
  const data = {
    ...details,
    periodIndex: intent.periodIndex,
    paymentMethod,
    gatewayReference: result.chargeId,
    processedAt: at,
    taxRateBps: intent.taxRateBps,
  };
  await handleCommand(store, paymentDecider, stream, { type: 'RecordPaymentSucceeded', data }, options);
}
