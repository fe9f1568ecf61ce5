export type BucketInterval = 'day' | 'week' | 'month';

/** A time-series bucket: UTC dates, `end` exclusive, clipped to the range asked for. */
export interface Bucket {
  start: string;
  end: string;
}

const DAY_MS = 86_400_000;

const toMs = (date: string): number => Date.parse(`${date}T00:00:00.000Z`);
const toDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export const addDays = (date: string, days: number): string => toDate(toMs(date) + days * DAY_MS);

/** Whether `text` is a real calendar date written `YYYY-MM-DD` (not 2026-02-30). */
export const isCalendarDate = (text: string): boolean =>
  /^\d{4}-\d{2}-\d{2}$/.test(text) && toDate(toMs(text)) === text;

/** The start of the next bucket after the one holding `date`: weeks start on Monday (ISO), months on the 1st. */
function nextBoundary(date: string, interval: BucketInterval): string {
  if (interval === 'day') return addDays(date, 1);
  if (interval === 'week') {
    const weekday = (new Date(toMs(date)).getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
    return addDays(date, 7 - weekday);
  }
  const d = new Date(toMs(date));
  return toDate(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
}

/** How many buckets [from, to] spans, without building them (to refuse a huge range first). */
export function bucketCount(from: string, to: string, interval: BucketInterval): number {
  const days = (toMs(to) - toMs(from)) / DAY_MS + 1;
  if (interval === 'day') return days;
  if (interval === 'week') return Math.ceil((days + ((new Date(toMs(from)).getUTCDay() + 6) % 7)) / 7);
  const a = new Date(toMs(from));
  const b = new Date(toMs(to));
  return (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + b.getUTCMonth() - a.getUTCMonth() + 1;
}

/** The buckets covering the days `from` … `to` (both included), in order. */
export function bucketsOf(from: string, to: string, interval: BucketInterval): Bucket[] {
  const stop = addDays(to, 1);
  const buckets: Bucket[] = [];
  for (let start = from; start < stop;) {
    const next = nextBoundary(start, interval);
    const end = next < stop ? next : stop;
    buckets.push({ start, end });
    start = end;
  }
  return buckets;
}

/** The index of the bucket holding `day`, or -1 (buckets are contiguous and sorted). */
export function bucketIndexOf(buckets: readonly Bucket[], day: string): number {
  let low = 0;
  let high = buckets.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const bucket = buckets[middle]!;
    if (day < bucket.start) high = middle - 1;
    else if (day >= bucket.end) low = middle + 1;
    else return middle;
  }
  return -1;
}
