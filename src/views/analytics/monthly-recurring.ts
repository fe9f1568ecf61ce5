import type { BillingInterval } from '../../domain/events/common.ts';

/**
 * A subscription's contribution to MRR in integer minor units: the monthly price, or the yearly
 * price / 12 rounded to the nearest minor unit (halves up), per subscription. MRR sums these
 * rounded contributions, so the figure never depends on the order it was added up in.
 */
export const monthlyRecurring = (amount: number, interval: BillingInterval): number =>
  interval === 'year' ? Math.round(amount / 12) : amount;

/** ARR is MRR × 12 (of the rounded contributions). */
export const annualRecurring = (mrr: number): number => mrr * 12;

const UTC_INSTANT = /^\d{4}-\d{2}-\d{2}T[^+]*Z$/;

/**
 * The UTC calendar day of an instant (`2026-03-01T10:00:00.000Z` → `2026-03-01`). Events hold
 * UTC instants (offsets are refused), so the day is their first ten characters: no date parsing
 * in a rebuild's hot loop.
 */
export const dayOf = (instant: string | Date): string =>
  typeof instant === 'string' && UTC_INSTANT.test(instant)
    ? instant.slice(0, 10)
    : new Date(instant).toISOString().slice(0, 10);
