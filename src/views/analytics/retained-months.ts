import { addMonths } from '../../domain/subscription/period.ts';

/**
 * How many monthly anniversaries of a signup (the signup itself is the 0th) came before the
 * customer churned: retained k months after signup ⟺ k < retainedMonths. Anniversaries are
 * calendar months in UTC, a missing day clamped to the month's last (Jan 31 → Feb 28), as in
 * PostgreSQL's `+ interval '1 month'`.
 */
export function retainedMonths(signup: Date | string, churn: Date | string): number {
  const churnMs = new Date(churn).getTime();
  const start = new Date(signup);
  // Start from the calendar-month distance, then settle on the first anniversary not before the churn.
  let k = Math.max(
    0,
    (new Date(churn).getUTCFullYear() - start.getUTCFullYear()) * 12 +
      new Date(churn).getUTCMonth() -
      start.getUTCMonth() -
      1,
  );
  while (Date.parse(addMonths(start, k)) < churnMs) k++;
  return k;
}
