import { z } from 'zod';

/** Stripe's ceiling for one charge (8 digits of minor units); a larger price is a typo. */
export const MAX_PLAN_AMOUNT = 99_999_999;

const isoCurrencies = new Set(Intl.supportedValuesOf('currency'));

export const planInterval = z.enum(['month', 'year']);

/** One entry of the catalog. Money is integer minor units of an ISO 4217 currency, never a float. */
export const planSchema = z
  .object({
    /** Readable and stable: registrations and subscriptions refer to it (`pro-monthly`). */
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be 1-64 lowercase letters, digits, . _ - (e.g. pro-monthly)'),
    name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
    description: z.string().trim().max(500, 'must be at most 500 characters'),
    amount: z
      .int('must be an integer number of minor units (cents), e.g. 2900 for 29.00')
      .positive('must be positive (minor units)')
      .max(MAX_PLAN_AMOUNT, `must be at most ${MAX_PLAN_AMOUNT} minor units`),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 currency code in uppercase, e.g. EUR')
      .refine((code) => isoCurrencies.has(code), 'is not an ISO 4217 currency code'),
    interval: planInterval,
    /** Trials are not supported yet: the registration charges the first period at once. */
    trialDays: z.literal(0, 'must be 0 (trials are not supported yet)').default(0),
  })
  .strict();

export type Plan = z.infer<typeof planSchema>;
export type PlanInterval = z.infer<typeof planInterval>;

/** A file (or any source) of plans: `{ "plans": [...] }` or a bare array. */
const planFileSchema = z.union([z.object({ plans: z.array(z.unknown()) }).strict(), z.array(z.unknown())]);

/** The catalog could not be loaded; the message names the source, the plan and the field, in one line. */
export class PlanCatalogError extends Error {
  override readonly name = 'PlanCatalogError';
  constructor(
    readonly source: string,
    /** The plan at fault (its id, or `plans[i]` when it has none), or null for the file as a whole. */
    readonly plan: string | null,
    /** The field at fault, e.g. `amount`, or null. */
    readonly field: string | null,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(
      `invalid plan catalog ${source}: ${plan === null ? '' : `plan ${plan}: `}${field === null ? '' : `${field}: `}${detail}`,
      options,
    );
  }
}

/** A plan id that is not in the catalog (HTTP 404 on `GET /plans/{id}`, 422 on `POST /register`). */
export class UnknownPlanError extends Error {
  override readonly name = 'UnknownPlanError';
  constructor(readonly planId: string) {
    super(`unknown plan: ${JSON.stringify(planId)}`);
  }
}

const fieldOf = (issue: z.core.$ZodIssue, path: PropertyKey[]): string | null => {
  const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
  const parts = [...path.map(String), ...(keys.length === 1 ? keys : [])];
  return parts.length > 0 ? parts.join('.') : null;
};

/**
 * Validates a parsed catalog document (`{ "plans": [...] }` or an array) and returns its plans.
 * `source` names where it came from, for the error message.
 */
export function parsePlans(document: unknown, source: string): Plan[] {
  const file = planFileSchema.safeParse(document);
  if (!file.success)
    throw new PlanCatalogError(source, null, null, 'expected { "plans": [ ... ] } or an array of plans');
  const entries = Array.isArray(file.data) ? file.data : file.data.plans;
  if (entries.length === 0) throw new PlanCatalogError(source, null, null, 'the catalog has no plans');

  const plans: Plan[] = [];
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    const rawId = (entry as { id?: unknown } | null)?.id;
    const label =
      typeof rawId === 'string' && rawId.length > 0 && rawId.length <= 64 ? JSON.stringify(rawId) : `plans[${index}]`;
    const result = planSchema.safeParse(entry);
    if (!result.success) {
      const [issue, ...more] = result.error.issues;
      const detail = `${issue!.message}${more.length > 0 ? ` (and ${more.length} more problem${more.length > 1 ? 's' : ''})` : ''}`;
      throw new PlanCatalogError(source, label, fieldOf(issue!, issue!.path), detail);
    }
    if (seen.has(result.data.id)) throw new PlanCatalogError(source, label, 'id', 'duplicate plan id');
    seen.add(result.data.id);
    plans.push(result.data);
  });
  return plans;
}
