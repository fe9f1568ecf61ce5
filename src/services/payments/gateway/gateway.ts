import { z } from 'zod';

/**
 * The payment gateway as the Payment service sees it: the in-process simulator, the simulator over
 * HTTP, or (later) an adapter to a real processor. Every write carries an idempotency key: the same
 * key never charges (or refunds) twice, and `retrieve` answers "did my charge go through?" after an
 * ambiguous timeout. No card number ever crosses this interface: tokens, brand and last4 only.
 */
export interface PaymentGateway {
  charge(request: ChargeRequest): Promise<ChargeResult>;
  refund(request: RefundRequest): Promise<RefundResult>;
  /** The charge attempt made with this key (succeeded or declined), or null when none was made. */
  retrieve(idempotencyKey: string): Promise<GatewayCharge | null>;
}

const isoCurrencies = new Set(Intl.supportedValuesOf('currency'));

/** Stripe's ceiling for one charge: 8 digits of minor units. */
export const MAX_CHARGE_AMOUNT = 99_999_999;

/** Visible ASCII (it travels in an HTTP header), 1-255 characters, e.g. `registrationId:charge`. */
export const idempotencyKey = z
  .string()
  .min(1, 'must not be empty')
  .max(255, 'must be at most 255 characters')
  .regex(/^[\x21-\x7E]+$/, 'must be visible ASCII characters without spaces');
export const minorUnits = z
  .int('must be an integer number of minor units')
  .positive('must be positive')
  .max(MAX_CHARGE_AMOUNT, `must be at most ${MAX_CHARGE_AMOUNT}`);
export const currencyCode = z
  .string()
  .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 currency code in uppercase')
  .refine((code) => isoCurrencies.has(code), 'is not an ISO 4217 currency code');

export const chargeRequestSchema = z
  .object({
    idempotencyKey,
    amount: minorUnits,
    currency: currencyCode,
    /** A payment method token (`pm_...`), never a card number. */
    paymentMethod: z.string().min(1, 'must not be empty').max(255, 'must be at most 255 characters'),
    customerId: z.string().min(1, 'must not be empty').max(255, 'must be at most 255 characters'),
    description: z.string().max(1000, 'must be at most 1000 characters'),
  })
  .strict();

export const refundRequestSchema = z
  .object({
    idempotencyKey,
    chargeId: z.string().min(1, 'must not be empty').max(255, 'must be at most 255 characters'),
    /** Minor units; the whole remaining amount when absent. */
    amount: minorUnits.optional(),
  })
  .strict();

export const declineCode = z.enum(['generic_decline', 'insufficient_funds', 'expired_card']);

const chargeSucceeded = z.object({
  status: z.literal('succeeded'),
  chargeId: z.string().min(1),
  brand: z.string().min(1),
  last4: z.string().regex(/^\d{4}$/),
});

const chargeDeclined = z.object({
  status: z.literal('declined'),
  /** Declined attempts have an id too (a gateway reference for the `PaymentFailed` event). */
  chargeId: z.string().min(1),
  declineCode,
  message: z.string().min(1),
});

export const chargeResultSchema = z.discriminatedUnion('status', [chargeSucceeded.strict(), chargeDeclined.strict()]);

/** What the gateway recorded for one idempotency key: the request (token only) and its result. */
const chargeDetails = {
  idempotencyKey,
  amount: z.int().positive(),
  currency: z.string(),
  customerId: z.string(),
  description: z.string(),
  /** The token the charge was made with (`pm_card_visa`); the gateway never sees a card number. */
  paymentMethod: z.string(),
  /** Minor units refunded so far (0 for a declined attempt). */
  amountRefunded: z.int().nonnegative(),
  createdAt: z.iso.datetime(),
};

export const gatewayChargeSchema = z.discriminatedUnion('status', [
  chargeSucceeded.extend(chargeDetails).strict(),
  chargeDeclined.extend(chargeDetails).strict(),
]);

export const refundResultSchema = z
  .object({
    refundId: z.string().min(1),
    status: z.enum(['succeeded', 'pending', 'failed']),
    chargeId: z.string().min(1),
    amount: z.int().positive(),
    currency: z.string(),
    createdAt: z.iso.datetime(),
  })
  .strict();

export type ChargeRequest = z.infer<typeof chargeRequestSchema>;
export type RefundRequest = z.infer<typeof refundRequestSchema>;
export type DeclineCode = z.infer<typeof declineCode>;
export type ChargeResult = z.infer<typeof chargeResultSchema>;
export type ChargeSucceeded = Extract<ChargeResult, { status: 'succeeded' }>;
export type ChargeDeclined = Extract<ChargeResult, { status: 'declined' }>;
export type GatewayCharge = z.infer<typeof gatewayChargeSchema>;
export type RefundResult = z.infer<typeof refundResultSchema>;

/** The result part of a recorded charge, as `charge` returned it. */
export function chargeResultOf(charge: GatewayCharge): ChargeResult {
  return charge.status === 'succeeded'
    ? { status: 'succeeded', chargeId: charge.chargeId, brand: charge.brand, last4: charge.last4 }
    : { status: 'declined', chargeId: charge.chargeId, declineCode: charge.declineCode, message: charge.message };
}

// ---------------------------------------------------------------------------------------------
// Errors. A decline is not an error (it is a result); these are the cases with no result.

/** Every gateway failure; `code` is stable (snake_case) and travels in problem+json. */
export abstract class GatewayError extends Error {
  abstract readonly code: string;
}

/**
 * Ambiguous: the request may or may not have taken effect (a timeout, a connection lost after the
 * request was sent, a 5xx). Resolve it with `retrieve(idempotencyKey)`, or retry with the same key.
 */
export class GatewayTimeoutError extends GatewayError {
  override readonly name = 'GatewayTimeoutError';
  readonly code = 'gateway_timeout';
}

/** The gateway could not be reached or refused the work: nothing was charged or refunded. Safe to retry. */
export class GatewayUnavailableError extends GatewayError {
  override readonly name = 'GatewayUnavailableError';
  readonly code = 'gateway_unavailable';
}

/** The payment method token is not one the gateway knows (HTTP 422). Nothing was charged. */
export class UnknownPaymentMethodError extends GatewayError {
  override readonly name = 'UnknownPaymentMethodError';
  readonly code = 'unknown_payment_method';
  /** The token, only when it looks like one (`pm_...`): anything else might be a card number and is not kept. */
  readonly paymentMethod: string | null;
  constructor(paymentMethod: string) {
    const token = /^pm_[A-Za-z0-9_]{1,100}$/.test(paymentMethod) ? paymentMethod : null;
    super(token ? `unknown payment method: ${token}` : 'the payment method is not a payment method token (pm_...)');
    this.paymentMethod = token;
  }
}

/** The idempotency key was used before with different parameters (HTTP 422). Nothing was done. */
export class IdempotencyKeyReuseError extends GatewayError {
  override readonly name = 'IdempotencyKeyReuseError';
  readonly code = 'idempotency_key_reuse';
  constructor(
    readonly idempotencyKey: string,
    /** The parameters that differ from the first use of the key. */
    readonly fields: string[],
  ) {
    super(
      `idempotency key ${JSON.stringify(idempotencyKey)} was already used with different parameters (${fields.join(', ')})`,
    );
  }
}

/** The request itself is malformed (HTTP 400); `field` names the culprit. Nothing was done. */
export class InvalidGatewayRequestError extends GatewayError {
  override readonly name = 'InvalidGatewayRequestError';
  readonly code = 'invalid_request';
  constructor(
    readonly field: string | null,
    message: string,
  ) {
    super(message);
  }
}

/** No charge has this id (HTTP 404). */
export class UnknownChargeError extends GatewayError {
  override readonly name = 'UnknownChargeError';
  readonly code = 'unknown_charge';
  constructor(readonly chargeId: string) {
    super(`unknown charge: ${JSON.stringify(chargeId)}`);
  }
}

export type RefundRefusal = 'charge_not_succeeded' | 'charge_already_refunded' | 'amount_too_large';

/** The charge cannot be refunded as asked (HTTP 422); `reason` says why. Nothing was refunded. */
export class RefundRefusedError extends GatewayError {
  override readonly name = 'RefundRefusedError';
  readonly code = 'refund_refused';
  constructor(
    readonly chargeId: string,
    readonly reason: RefundRefusal,
    message: string,
  ) {
    super(message);
  }
}

/** A zod failure of a gateway request, as the typed error naming the field. */
export function invalidRequest(error: z.ZodError, wholeValueField: string | null = null): InvalidGatewayRequestError {
  const issue = error.issues[0]!;
  const field =
    issue.path.length > 0
      ? issue.path.map(String).join('.')
      : issue.code === 'unrecognized_keys'
        ? (issue.keys[0] ?? null)
        : wholeValueField;
  return new InvalidGatewayRequestError(field, `${field ?? 'request'}: ${issue.message}`);
}
