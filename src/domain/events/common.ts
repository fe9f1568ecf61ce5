import { z } from 'zod';

/** Ids the platform generates (customers, payments, subscriptions): UUIDs, v7 in practice. */
export const id = z.uuid();

/** A plan is a catalog entry with a readable id (`pro-monthly`) or a UUID, so any short token is accepted. */
export const planId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'plan id: 1-64 letters, digits, . _ -');

/** An instant in UTC as the clock prints it (`Date#toISOString()`): offsets are refused so times sort as text. */
export const isoTime = z.iso.datetime();

/** Money is never a float: integer minor units (cents) of an ISO 4217 currency. */
export const minorUnits = z.int().nonnegative();
export const currency = z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 currency: three uppercase letters');

export const money = z.object({ amount: minorUnits, currency }).strict();

/** A billing period, end exclusive. */
export const period = z
  .object({ start: isoTime, end: isoTime })
  .strict()
  .refine((p) => Date.parse(p.end) > Date.parse(p.start), {
    message: 'period end must be after its start',
    path: ['end'],
  });

export const billingInterval = z.enum(['month', 'year']);

export const paymentPurpose = z.enum(['registration', 'renewal']);

/** What the platform may know of a card: never its number or CVC, only what a receipt shows and the gateway's token. */
export const paymentMethod = z
  .object({
    brand: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'card brand in lowercase, e.g. visa'),
    last4: z.string().regex(/^\d{4}$/, 'last4: four digits'),
    tokenId: z.string().min(1).max(255).optional(),
  })
  .strict();

export type Money = z.infer<typeof money>;
export type Period = z.infer<typeof period>;
export type BillingInterval = z.infer<typeof billingInterval>;
export type PaymentPurpose = z.infer<typeof paymentPurpose>;
export type PaymentMethod = z.infer<typeof paymentMethod>;

/** Personal data: kept on the customer's own events only, so erasure (crypto-shredding per customer) covers it. */
export const email = z.email().max(254);
export const personName = z.string().min(1).max(200).regex(/\S/, 'name must not be blank');

/** Personal data as customer events carry it since CustomerCreated v2 / CustomerRegistered v3 (see src/kernel/crypto). */
const b64 = z.string().regex(/^[A-Za-z0-9_-]+$/, 'base64url');

/** What a customer event carries instead of clear personal data. */
export const encryptedPii = z.object({ alg: z.literal('A256GCM'), iv: b64, ciphertext: b64, tag: b64 }).strict();

/**
 * Events written before encryption (CustomerCreated v1, CustomerRegistered v1/v2) hold the data in
 * clear: their upcasters pass it through as `legacy-clear`, readable as before and not shreddable.
 */
export const legacyClearPii = z
  .object({ alg: z.literal('legacy-clear'), email: z.string(), name: z.string() })
  .strict();

export const piiField = z.discriminatedUnion('alg', [encryptedPii, legacyClearPii]);
export type Pii = z.infer<typeof piiField>;

/** Upcaster helper: `{ email, name, ...rest }` → `{ ...rest, pii: legacy-clear }`. */
export const legacyPii = ({ email, name, ...rest }: Record<string, unknown>): Record<string, unknown> => ({
  ...rest,
  pii: { alg: 'legacy-clear', email, name },
});

/** The gateway's decline code, e.g. `generic_decline`, `insufficient_funds`, `expired_card`. */
export const declineCode = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'decline code in snake_case');

/** Free text a person or the platform gives as a reason; never blank. */
export const reason = z.string().min(1).max(500).regex(/\S/, 'reason must not be blank');

/** Why a customer was deleted: the registration saga undid it, or the customer asked to be forgotten. */
export const customerDeletionReason = z.enum(['compensation', 'erasure']);

/** The registration saga's forward steps, in order; `complete` (registering the customer) is the pivot. */
export const registrationStep = z.enum(['create_customer', 'charge_payment', 'create_subscription', 'complete']);

/** What the saga undoes when it compensates, in the order it undoes it. */
export const registrationCompensation = z.enum(['cancel_subscription', 'refund_payment', 'delete_customer']);

export type CustomerDeletionReason = z.infer<typeof customerDeletionReason>;
export type RegistrationStep = z.infer<typeof registrationStep>;
export type RegistrationCompensation = z.infer<typeof registrationCompensation>;
