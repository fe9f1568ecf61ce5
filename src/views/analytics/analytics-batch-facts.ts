import type { CustomerRegisteredData } from '../../domain/events/customer-registered.ts';
import type { SubscriptionCreatedData } from '../../domain/events/subscription-created.ts';
import type { Sql } from '../../kernel/db/database.ts';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';
import { dayOf, monthlyRecurring } from './monthly-recurring.ts';

/** A movement of the daily MRR totals. */
export interface Movement {
  day: string;
  currency: string;
  amount: number;
}

/** Moves the daily MRR totals, one statement for a batch (movements of one day and currency summed first). */
export async function addToDailyMrr(tx: Sql, movements: readonly Movement[]): Promise<void> {
  const sums = new Map<string, Movement>();
  for (const { day, currency, amount } of movements) {
    const key = `${day}|${currency}`;
    sums.set(key, { day, currency, amount: (sums.get(key)?.amount ?? 0) + amount });
  }
  if (sums.size === 0) return;
  const rows = [...sums.values()];
  await tx.query(
    `insert into analytics_mrr_daily (day, currency, amount)
     select * from unnest($1::date[], $2::text[], $3::bigint[])
     on conflict (day, currency) do update set amount = analytics_mrr_daily.amount + excluded.amount`,
    [rows.map((row) => row.day), rows.map((row) => row.currency), rows.map((row) => row.amount)],
  );
}

const cohortMonthOf = (registeredAt: string): string => `${registeredAt.slice(0, 7)}-01`;

/**
 * The signups of a batch in two statements: their facts (a redelivered one inserts nothing), then
 * their cohort given to the facts of theirs that came first. Returns their customers.
 */
export async function recordSignups(tx: Sql, events: readonly RecordedEvent[]): Promise<string[]> {
  const signups = events.map((event) => ({ id: event.id, ...(event.data as CustomerRegisteredData) }));
  const customers = signups.map((s) => s.customerId);
  const cohorts = signups.map((s) => cohortMonthOf(s.registeredAt));
  // Only a fact written now counts in its day's cohort (not churned yet: retained_months null).
  await tx.query(
    `with written as (
       insert into analytics_facts (kind, subject, event_id, customer_id, plan_id, at, day, cohort_month)
       select 'signup', c, e, c, p, at, d, m
       from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::date[], $6::date[]) as t(c, e, p, at, d, m)
       on conflict (kind, subject) do nothing
       returning day, cohort_month
     )
     insert into analytics_cohort_days (day, retained_months, cohort_month, day_of_month, customers)
     select day, null, cohort_month, extract(day from day), count(*) from written group by day, cohort_month
     on conflict (day, retained_months) do update set customers = analytics_cohort_days.customers + excluded.customers`,
    [
      customers,
      signups.map((s) => s.id),
      signups.map((s) => s.planId),
      signups.map((s) => s.registeredAt),
      signups.map((s) => dayOf(s.registeredAt)),
      cohorts,
    ],
  );
  // The saga registers the customer after creating the subscription: its facts get their cohort now.
  await tx.query(
    `update analytics_facts f set cohort_month = t.m
     from unnest($1::text[], $2::date[]) as t(c, m)
     where f.customer_id = t.c and f.cohort_month is null`,
    [customers, cohorts],
  );
  return customers;
}

/**
 * The new subscriptions of a batch in three statements: their facts with their MRR (only a fact
 * written now moves the daily totals), the daily totals, and the churns that came first learning
 * their plan and MRR (which moves the totals too). Returns the customers whose churns changed.
 */
export async function recordNewSubscriptions(tx: Sql, events: readonly RecordedEvent[]): Promise<string[]> {
  const created = events.map((event) => ({ id: event.id, ...(event.data as SubscriptionCreatedData) }));
  const mrr = created.map((c) => monthlyRecurring(c.price.amount, c.interval));
  const subscriptions = created.map((c) => c.subscriptionId);
  const plans = created.map((c) => c.planId);
  const currencies = created.map((c) => c.price.currency);
  const inserted = await tx.query<{ day: string; currency: string; amount: string | number }>(
    `insert into analytics_facts (kind, subject, event_id, customer_id, subscription_id, plan_id, currency, mrr_delta, at, day, cohort_month)
     select 'new', s, e, c, s, p, cur, m, at, d,
            (select cohort_month from analytics_facts where kind = 'signup' and subject = t.c)
     from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::timestamptz[], $8::date[])
       as t(s, e, c, p, cur, m, at, d)
     on conflict (kind, subject) do nothing
     returning day::text as day, currency, mrr_delta as amount`,
    [
      subscriptions,
      created.map((c) => c.id),
      created.map((c) => c.customerId),
      plans,
      currencies,
      mrr,
      created.map((c) => c.createdAt),
      created.map((c) => dayOf(c.createdAt)),
    ],
  );
  const backfilled = await tx.query<{ day: string; currency: string; amount: string | number; customer_id: string }>(
    `update analytics_facts f set plan_id = t.p, currency = t.cur, mrr_delta = -t.m
     from unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) as t(s, p, cur, m)
     where f.kind = 'churned' and f.subject = t.s and f.mrr_delta is null
     returning f.day::text as day, f.currency, f.mrr_delta as amount, f.customer_id`,
    [subscriptions, plans, currencies, mrr],
  );
  await addToDailyMrr(
    tx,
    [...inserted.rows, ...backfilled.rows].map((row) => ({ ...row, amount: Number(row.amount) })),
  );
  return backfilled.rows.map((row) => row.customer_id);
}
