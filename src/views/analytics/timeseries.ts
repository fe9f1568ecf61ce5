import type { Sql } from '../../kernel/db/database.ts';
import { bucketIndexOf, bucketsOf, type Bucket, type BucketInterval } from './buckets.ts';

export type AnalyticsMetric = 'signups' | 'cancellations' | 'mrr' | 'revenue';

export interface TimeSeries {
  metric: AnalyticsMetric;
  interval: BucketInterval;
  from: string;
  to: string;
  /** One series for a count, one per currency for money. */
  series: { currency: string | null; points: { start: string; end: string; value: number }[] }[];
}

interface DayRow {
  day: string;
  currency: string | null;
  value: unknown;
}

/** Sums rows of (day, currency, value) into the buckets, one series per currency. */
function perBucket(buckets: Bucket[], rows: DayRow[], currencies: string[] | null): TimeSeries['series'] {
  const keys = currencies ?? [null];
  const series = new Map(keys.map((currency) => [currency, buckets.map(() => 0)]));
  for (const row of rows) {
    const values = series.get(row.currency) ?? (series.set(row.currency, buckets.map(() => 0)).get(row.currency) as number[]);
    const index = bucketIndexOf(buckets, row.day);
    if (index >= 0) values[index]! += Number(row.value);
  }
  return [...series].sort(([a], [b]) => String(a).localeCompare(String(b))).map(([currency, values]) => ({
    currency,
    points: buckets.map((bucket, i) => ({ start: bucket.start, end: bucket.end, value: values[i]! })),
  }));
}

/**
 * MRR at the end of each bucket (at `now` for a bucket not over yet): the new minus the churned
 * MRR of every fact up to then; a churn scheduled after `now` does not count yet.
 */
async function mrrSeries(db: Sql, buckets: Bucket[], from: string, to: string, now: Date): Promise<TimeSeries['series']> {
  const opening = await db.query<{ currency: string; value: unknown }>(
    `select currency, sum(mrr_delta)::bigint as value from analytics_facts
     where kind in ('new', 'churned') and mrr_delta is not null and at <= $1 and day < $2 group by currency`,
    [now, from],
  );
  const moves = await db.query<DayRow>(
    `select day::text as day, currency, sum(mrr_delta)::bigint as value from analytics_facts
     where kind in ('new', 'churned') and mrr_delta is not null and at <= $1 and day between $2 and $3 group by day, currency`,
    [now, from, to],
  );
  const currencies = [...new Set([...opening.rows, ...moves.rows].map((row) => row.currency as string))].sort();
  const changes = perBucket(buckets, moves.rows, currencies);
  return changes.map(({ currency, points }) => {
    let level = Number(opening.rows.find((row) => row.currency === currency)?.value ?? 0);
    return { currency, points: points.map((point) => ({ ...point, value: (level += point.value) })) };
  });
}

/**
 * signups, cancellations (by the day the first cancellation was asked for) and MRR come from the
 * pipeline's facts; revenue (captured minus refunded) from the projection.
 */
export async function analyticsTimeSeries(
  db: Sql,
  schema: string,
  query: { metric: AnalyticsMetric; from: string; to: string; interval: BucketInterval },
  now: Date,
): Promise<TimeSeries> {
  const { metric, from, to, interval } = query;
  const buckets = bucketsOf(from, to, interval);
  let series: TimeSeries['series'];
  if (metric === 'signups') {
    const { rows } = await db.query<DayRow>(
      `select day::text as day, null as currency, count(*)::int as value from analytics_facts where kind = 'signup' and day between $1 and $2 group by day`,
      [from, to],
    );
    series = perBucket(buckets, rows, null);
  } else if (metric === 'cancellations') {
    const { rows } = await db.query<DayRow>(
      `select day::text as day, null as currency, count(*)::int as value
       from (select (requested_at at time zone 'UTC')::date as day from analytics_facts where kind = 'churned') cancelled
       where day between $1 and $2 group by day`,
      [from, to],
    );
    series = perBucket(buckets, rows, null);
  } else if (metric === 'revenue') {
    const { rows } = await db.query<DayRow>(
      `select day::text as day, currency, sum(amount)::bigint as value from ${schema}.daily_revenue where day between $1 and $2 group by day, currency`,
      [from, to],
    );
    series = perBucket(buckets, rows, [...new Set(rows.map((row) => row.currency as string))].sort());
  } else {
    series = await mrrSeries(db, buckets, from, to, now);
  }
  return { metric, interval, from, to, series };
}
