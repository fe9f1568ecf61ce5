import {
  GatewayTimeoutError,
  GatewayUnavailableError,
  IdempotencyKeyReuseError,
  InvalidGatewayRequestError,
  RefundRefusedError,
  UnknownChargeError,
  UnknownPaymentMethodError,
  type RefundRefusal,
} from './gateway.ts';

/** An RFC 9457 problem document, as the gateway service answers it. */
export interface GatewayProblem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  [extension: string]: unknown;
}

export const GATEWAY_PROBLEM_BASE = 'https://tributary.dev/problems/';

const problem = (
  slug: string,
  title: string,
  status: number,
  detail: string | undefined,
  extensions: Record<string, unknown> = {},
): GatewayProblem => ({
  type: GATEWAY_PROBLEM_BASE + slug,
  title,
  status,
  ...(detail === undefined ? {} : { detail }),
  ...extensions,
});

/**
 * The problem+json answer for a gateway error, or undefined when the error is not one of the
 * gateway's (the caller answers 500). Usable by the platform's API too (e.g. 422 for an unknown token).
 */
export function gatewayProblem(error: unknown): GatewayProblem | undefined {
  if (error instanceof UnknownPaymentMethodError)
    return problem('unknown-payment-method', 'Unknown payment method', 422, error.message, {
      field: 'paymentMethod',
      paymentMethod: error.paymentMethod,
    });
  if (error instanceof IdempotencyKeyReuseError)
    return problem('idempotency-key-reuse', 'Idempotency key reused', 422, error.message, {
      idempotencyKey: error.idempotencyKey,
      fields: error.fields,
    });
  if (error instanceof InvalidGatewayRequestError)
    return problem('invalid-request', 'Invalid request', 400, error.message, { field: error.field });
  if (error instanceof UnknownChargeError)
    return problem('unknown-charge', 'Unknown charge', 404, error.message, { chargeId: error.chargeId });
  if (error instanceof RefundRefusedError)
    return problem('refund-refused', 'Refund refused', 422, error.message, {
      chargeId: error.chargeId,
      reason: error.reason,
    });
  if (error instanceof GatewayUnavailableError)
    return problem('gateway-unavailable', 'Payment gateway unavailable', 503, error.message);
  if (error instanceof GatewayTimeoutError)
    return problem('gateway-timeout', 'Payment gateway timeout', 504, error.message);
  return undefined;
}

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * The typed error a problem document stands for, or undefined when its type is not a gateway
 * error's (the client then decides from the status alone).
 */
export function errorFromProblem(body: Record<string, unknown>): Error | undefined {
  const type = str(body.type);
  if (!type?.startsWith(GATEWAY_PROBLEM_BASE)) return undefined;
  const detail = str(body.detail) ?? str(body.title) ?? 'payment gateway error';
  switch (type.slice(GATEWAY_PROBLEM_BASE.length)) {
    case 'unknown-payment-method':
      return new UnknownPaymentMethodError(str(body.paymentMethod) ?? '');
    case 'idempotency-key-reuse':
      return new IdempotencyKeyReuseError(
        str(body.idempotencyKey) ?? '',
        Array.isArray(body.fields) ? body.fields.filter((field): field is string => typeof field === 'string') : [],
      );
    case 'invalid-request':
      return new InvalidGatewayRequestError(str(body.field) ?? null, detail);
    case 'unknown-charge':
      return new UnknownChargeError(str(body.chargeId) ?? '');
    case 'refund-refused':
      return new RefundRefusedError(
        str(body.chargeId) ?? '',
        (str(body.reason) ?? 'charge_not_succeeded') as RefundRefusal,
        detail,
      );
    case 'gateway-unavailable':
      return new GatewayUnavailableError(detail);
    case 'gateway-timeout':
      return new GatewayTimeoutError(detail);
    default:
      return undefined;
  }
}
