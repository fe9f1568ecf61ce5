import type { Sql } from '../../kernel/db/database.ts';

export interface Cohort {
  /** The signup month, `YYYY-MM`. */
  month: string;
  customers: number;
  retention: { monthsAfterSignup: number; observed: number; retained: number; rate: number }[];
}

/**
 * Monthly signup cohorts from the pipeline's facts. A customer is retained k months after signup
 * when its subscription had not churned at signup time + k calendar months (the signup's
 * `retained_months` counts those anniversaries); only customers whose k-th anniversary has passed
 * by `now` are observed for k. One pass over the signups, grouped before it leaves the database.
 */
export async function analyticsCohorts(db: Sql, now: Date, range: { from?: string; to?: string }): Promise<Cohort[]> {
  const from = range.from ? `${range.from}-01` : '0001-01-01';
  const to = range.to ? `${range.to}-01` : '9999-12-01';
  const { rows } = await db.query<{
    month: string;
    retained_months: number | null;
    observed_months: number;
    customers: number;
  }>(
    `select to_char(cohort_month, 'YYYY-MM') as month, retained_months, observed_months, count(*)::int as customers
     from (
       select cohort_month, retained_months,
              -- the last anniversary not after now: the calendar-month distance, or one less
              d - case when ((at at time zone 'UTC') + make_interval(months => d)) at time zone 'UTC' > $1 then 1 else 0 end as observed_months
       from (
         select cohort_month, retained_months, at,
                ((extract(year from $1::timestamptz at time zone 'UTC') - extract(year from at at time zone 'UTC')) * 12
                 + extract(month from $1::timestamptz at time zone 'UTC') - extract(month from at at time zone 'UTC'))::int as d
         from analytics_facts where kind = 'signup' and cohort_month between $2::date and $3::date and at <= $1
       ) signups
     ) ages
     group by 1, 2, 3 order by 1`,
    [now, from, to],
  );
  const cohorts = new Map<string, { customers: number; observed: number[]; retained: number[] }>();
  for (const row of rows) {
    const cohort = cohorts.get(row.month) ?? { customers: 0, observed: [], retained: [] };
    cohort.customers += row.customers;
    for (let k = 0; k <= row.observed_months; k++) {
      cohort.observed[k] = (cohort.observed[k] ?? 0) + row.customers;
      if (row.retained_months === null || k < row.retained_months)
        cohort.retained[k] = (cohort.retained[k] ?? 0) + row.customers;
    }
    cohorts.set(row.month, cohort);
  }
  return [...cohorts].map(([month, { customers, observed, retained }]) => ({
    month,
    customers,
    retention: observed.map((count, k) => ({
      monthsAfterSignup: k,
      observed: count,
      retained: retained[k] ?? 0,
      rate: (retained[k] ?? 0) / count,
    })),
  }));
}
