import type { Sql } from '../../kernel/db/database.ts';

export interface Cohort {
  /** The signup month, `YYYY-MM`. */
  month: string;
  customers: number;
  retention: { monthsAfterSignup: number; observed: number; retained: number; rate: number }[];
}

/**
 * Monthly signup cohorts from the pipeline's facts. A customer is retained k months after signup
 * when, at that instant (signup time + k calendar months), one of its subscriptions had started
 * and not churned; only customers whose k-th month has passed by `now` are observed for k.
 */
export async function analyticsCohorts(db: Sql, now: Date, range: { from?: string; to?: string }): Promise<Cohort[]> {
  const from = range.from ? `${range.from}-01` : '0001-01-01';
  const to = range.to ? `${range.to}-01` : '9999-12-01';
  const { rows } = await db.query<{ month: string; k: number; observed: number; retained: number }>(
    `with customers as (
       select subject as customer_id, at as registered_at, to_char(cohort_month, 'YYYY-MM') as month
       from analytics_facts where kind = 'signup' and cohort_month between $2::date and $3::date
     ),
     subscriptions as (
       select n.customer_id, n.at as started_at, c.at as churned_at
       from analytics_facts n left join analytics_facts c on c.kind = 'churned' and c.subject = n.subject
       where n.kind = 'new' and n.customer_id in (select customer_id from customers)
     ),
     ages as (
       select customers.customer_id, customers.month, k,
              ((customers.registered_at at time zone 'UTC') + make_interval(months => k)) at time zone 'UTC' as at
       -- one month more than the age of the oldest signup: age() counts in the session's time zone
       from customers, generate_series(0, 1 + greatest(0, (extract(year from age($1::timestamptz, (select min(registered_at) from customers))) * 12
                                                     + extract(month from age($1::timestamptz, (select min(registered_at) from customers))))::int)) as k
     )
     select month, k, count(*)::int as observed,
            (count(*) filter (where exists (
              select 1 from subscriptions s where s.customer_id = ages.customer_id and s.started_at <= ages.at and (s.churned_at is null or s.churned_at > ages.at)
            )))::int as retained
     from ages where at <= $1 group by month, k order by month, k`,
    [now, from, to],
  );
  const cohorts = new Map<string, Cohort>();
  for (const row of rows) {
    const cohort = cohorts.get(row.month) ?? { month: row.month, customers: 0, retention: [] };
    if (row.k === 0) cohort.customers = row.observed;
    cohort.retention.push({ monthsAfterSignup: row.k, observed: row.observed, retained: row.retained, rate: row.observed ? row.retained / row.observed : 0 });
    cohorts.set(row.month, cohort);
  }
  return [...cohorts.values()];
}
