import type { Sql } from '../../kernel/db/database.ts';

export interface Cohort {
  /** The signup month, `YYYY-MM`. */
  month: string;
  customers: number;
  retention: { monthsAfterSignup: number; observed: number; retained: number; rate: number }[];
}

/** The UTC calendar date and day of the month of an instant, and the number of days of its month. */
function calendarOf(now: Date): { today: string; dayOfMonth: number; monthDays: number } {
  const monthDays = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 0)).getUTCDate();
  return { today: now.toISOString().slice(0, 10), dayOfMonth: now.getUTCDate(), monthDays };
}

/**
 * Monthly signup cohorts from the pipeline's facts. A customer is retained k months after signup
 * when its subscription had not churned at signup time + k calendar months (the signup's
 * `retained_months` counts those anniversaries); only customers whose k-th anniversary has passed
 * by `now` are observed for k.
 *
 * The pipeline keeps the signups counted per day and retained_months (analytics_cohort_days), so
 * this reads those rows rather than every signup: a signup's last anniversary not after `now` falls
 * in this month unless its day of the month (clamped to this month's length, as `+ interval` does)
 * comes after today's, whatever its time. Only the signups whose clamped day is today's (a day or a
 * few per cohort) are read one by one: their anniversary is today, passed unless its time of day
 * is after now's.
 */
export async function analyticsCohorts(db: Sql, now: Date, range: { from?: string; to?: string }): Promise<Cohort[]> {
  const from = range.from ? `${range.from}-01` : '0001-01-01';
  const to = range.to ? `${range.to}-01` : '9999-12-01';
  const { today, dayOfMonth, monthDays } = calendarOf(now);
  const { rows } = await db.query<CohortCount>(
    `with counted as (
       -- days before today whose anniversary this month is wholly before today, or wholly after (later)
       select cohort_month, retained_months, day_of_month > $6::int as later, sum(customers)::int as customers
       from analytics_cohort_days
       where cohort_month between $2::date and $3::date and day < $4::date and customers <> 0
         and least(day_of_month, $5::int) <> $6::int
       group by 1, 2, 3
     ), boundary as (
       -- the days whose anniversary this month is today
       select d::date as day
       from generate_series(
              greatest($2::date, coalesce((select min(day) from analytics_cohort_days), $4::date)),
              least($3::date + interval '1 month' - interval '1 day', $4::date),
              interval '1 day') as d
       where least(extract(day from d)::int, $5::int) = $6::int
     ), passing as (
       -- their anniversary falls today: it has passed unless its time of day is after now's
       select f.cohort_month, f.retained_months,
              (f.at at time zone 'UTC')::time > ($1::timestamptz at time zone 'UTC')::time as later,
              count(*)::int as customers
       from boundary b join analytics_facts f on f.kind = 'signup' and f.day = b.day
       where f.at <= $1
       group by 1, 2, 3
     )
     -- the last anniversary not after now: the calendar-month distance, or one less
     select to_char(cohort_month, 'YYYY-MM') as month, retained_months,
            ((extract(year from $4::date) - extract(year from cohort_month)) * 12
             + extract(month from $4::date) - extract(month from cohort_month))::int - later::int as observed_months,
            customers
     from (select * from counted union all select * from passing) as signups
     order by 1`,
    [now, from, to, today, monthDays, dayOfMonth],
  );
  return cohortsOf(rows);
}

/** A cohort's signups counted by retained_months and by the months observed (rows in month order). */
export interface CohortCount {
  month: string;
  retained_months: number | null;
  observed_months: number;
  customers: number;
}

/** The cohorts and their retention from the signups counted by cohort, retained_months and months observed. */
export function cohortsOf(rows: readonly CohortCount[]): Cohort[] {
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
