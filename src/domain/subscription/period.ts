import type { BillingInterval, Period } from '../events/common.ts';

const monthsIn: Record<BillingInterval, number> = { month: 1, year: 12 };

const daysInMonth = (year: number, month: number): number => new Date(Date.UTC(year, month + 1, 0)).getUTCDate();

/**
 * `start` plus whole calendar months in UTC, the time of day kept. A day the target month lacks
 * is clamped to its last day: Jan 31 + 1 month = Feb 28 (Feb 29 in a leap year).
 */
export const addMonths = (start: string | Date, months: number): string => {
  const date = new Date(start);
  if (Number.isNaN(date.getTime())) throw new RangeError(`not a time: ${String(start)}`);
  const total = date.getUTCMonth() + months;
  const year = date.getUTCFullYear() + Math.floor(total / 12);
  const month = ((total % 12) + 12) % 12;
  const day = Math.min(date.getUTCDate(), daysInMonth(year, month));
  return new Date(
    Date.UTC(
      year,
      month,
      day,
      date.getUTCHours(),
      date.getUTCMinutes(),
      date.getUTCSeconds(),
      date.getUTCMilliseconds(),
    ),
  ).toISOString();
};

/** The end (exclusive) of a period of one `interval` starting at `start`. */
export const periodEnd = (start: string | Date, interval: BillingInterval): string =>
  addMonths(start, monthsIn[interval]);

/**
 * Period `index` of a subscription whose first period started at `anchor`. Counting from the
 * anchor rather than from the previous end keeps the day of month: Jan 31 → Feb 28 → Mar 31.
 */
export const periodAt = (anchor: string | Date, interval: BillingInterval, index: number): Period => ({
  start: addMonths(anchor, index * monthsIn[interval]),
  end: addMonths(anchor, (index + 1) * monthsIn[interval]),
});
