import type { Sql } from '../../kernel/db/database.ts';
import { addDays, bucketIndexOf, bucketsOf, type Bucket, type BucketInterval } from './buckets.ts';
import { dayOf } from './monthly-recurring.ts';

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
  /** null: before the first bucket (the opening MRR). */
  day: string | null;
  currency: string | null;
  value: unknown;
}

/** Sums rows of (day, currency, value) into the buckets, one series per currency. */
function perBucket(buckets: Bucket[], rows: DayRow[], currencies: string[] | null): TimeSeries['series'] {
  const keys = currencies ?? [null];
  const series = new Map(keys.map((currency) => [currency, buckets.map(() => 0)]));
  for (const row of rows) {
    const values =
      series.get(row.currency) ??
      (series
        .set(
          row.currency,
          buckets.map(() => 0),
        )
        .get(row.currency) as number[]);
    if (row.day === null) continue;
    const index = bucketIndexOf(buckets, row.day);
    if (index >= 0) values[index]! += Number(row.value);
  }
  return [...series]
    .sort(([a], [b]) => String(a).localeCompare(String(b)))
    .map(([currency, values]) => ({
      currency,
      points: buckets.map((bucket, i) => ({ start: bucket.start, end: bucket.end, value: values[i]! })),
    }));
}

const startsOf = (buckets: readonly Bucket[]): string[] => buckets.map((bucket) => bucket.start);

/**
 * Sums the rows of `days` (day, currency, value) per bucket and currency in the database, `$1` the
 * buckets' starts (a row before the first: day null): a row per bucket leaves it, not one per day.
 */
const perBucketSql = (days: string): string => `
  select ($1::date[])[b]::text as day, currency, sum(value)::bigint as value
  from (select width_bucket(day, $1::date[]) as b, currency, value from (${days}) as days) as bucketed
  group by b, currency`;

/**
 * MRR at the end of each bucket (at `now` for a bucket not over yet): the net new minus churned
 * MRR of every day before, from the pipeline's daily totals; today's facts are read one by one, so
 * a churn later today (or scheduled after `now`) does not count yet.
 */
async function mrrSeries(db: Sql, buckets: Bucket[], to: string, now: Date): Promise<TimeSeries['series']> {
  const today = dayOf(now);
  const { rows } = await db.query<DayRow>(
    perBucketSql(`
      select day, currency, amount as value from analytics_mrr_daily where day < $2 and day <= $3
      union all
      select day, currency, mrr_delta from analytics_facts
      where kind in ('new', 'churned') and day = $2 and day <= $3 and at <= $4 and mrr_delta is not null`),
    [startsOf(buckets), today, to, now],
  );
  const currencies = [...new Set(rows.map((row) => row.currency as string))].sort();
  const changes = perBucket(buckets, rows, currencies);
  return changes.map(({ currency, points }) => {
    let level = rows
      .filter((row) => row.day === null && row.currency === currency)
      .reduce((sum, row) => sum + Number(row.value), 0);
    return { currency, points: points.map((point) => ({ ...point, value: (level += point.value) })) };
  });
}

/**
 * signups (the pipeline's counts per day), cancellations (by the day the first cancellation was
 * asked for) and MRR come from the pipeline's facts; revenue (captured minus refunded) from the projection.
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
      perBucketSql(
        'select day, null as currency, customers as value from analytics_cohort_days where day between $2 and $3',
      ),
      [startsOf(buckets), from, to],
    );
    series = perBucket(buckets, rows, null);
  } else if (metric === 'cancellations') {
    const { rows } = await db.query<DayRow>(
      perBucketSql(`
        select (requested_at at time zone 'UTC')::date as day, null as currency, 1 as value
        from analytics_facts where kind = 'churned' and requested_at >= $2 and requested_at < $3`),
      [startsOf(buckets), `${from}T00:00:00.000Z`, `${addDays(to, 1)}T00:00:00.000Z`],
    );
    series = perBucket(buckets, rows, null);
  } else if (metric === 'revenue') {
    const { rows } = await db.query<DayRow>(
      perBucketSql(`select day, currency, amount as value from ${schema}.daily_revenue where day between $2 and $3`),
      [startsOf(buckets), from, to],
    );
    series = perBucket(buckets, rows, [...new Set(rows.map((row) => row.currency as string))].sort());
  } else {
    series = await mrrSeries(db, buckets, to, now);
  }
  return { metric, interval, from, to, series };
}
