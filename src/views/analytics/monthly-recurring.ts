import type { BillingInterval } from '../../domain/events/common.ts';

/**
 * A subscription's contribution to MRR in integer minor units: the monthly price, or the yearly
 * price / 12 rounded to the nearest minor unit (halves up), per subscription. MRR sums these
 * rounded contributions, so the figure never depends on the order it was added up in.
 */
export const monthlyRecurring = (amount: number, interval: BillingInterval): number => (interval === 'year' ? Math.round(amount / 12) : amount);

/** ARR is MRR × 12 (of the rounded contributions). */
export const annualRecurring = (mrr: number): number => mrr * 12;

/** The UTC calendar day of an ISO instant (`2026-03-01T10:00:00.000Z` → `2026-03-01`). */
export const dayOf = (instant: string | Date): string => new Date(instant).toISOString().slice(0, 10);
