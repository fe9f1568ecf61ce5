import {
  chargeResultOf,
  GatewayTimeoutError,
  type ChargeRequest,
  type ChargeResult,
  type PaymentGateway,
} from './gateway/index.ts';

/**
 * Charges with an idempotency key; after an ambiguous timeout asks the gateway whether the charge
 * went through. Still unknown: the timeout is thrown, and a retry with the same key charges once.
 */
export async function chargeOnce(gateway: PaymentGateway, request: ChargeRequest): Promise<ChargeResult> {
  try {
    return await gateway.charge(request);
  } catch (error) {
    if (!(error instanceof GatewayTimeoutError)) throw error;
    const known = await gateway.retrieve(request.idempotencyKey);
    if (!known) throw error;
    return chargeResultOf(known);
  }
}
