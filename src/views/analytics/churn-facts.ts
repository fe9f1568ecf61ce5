import type { SubscriptionCancelledData } from '../../domain/events/subscription-cancelled.ts';
import type { Sql } from '../../kernel/db/database.ts';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';
import { addToDailyMrr, type Movement } from './analytics-batch-facts.ts';
import { dayOf } from './monthly-recurring.ts';
import { retainedMonths } from './retained-months.ts';

interface Churn {
  subscriptionId: string;
  customerId: string;
  eventId: string;
  at: string;
  day: string;
  requestedAt: string;
  reason: string;
}

/**
 * A subscription churns once: a second cancellation (now, after one at period end) only brings
 * the churn forward, and the first request stays the cancellation that is counted. The same
 * rule as the upsert below, for two cancellations of one subscription in a batch.
 */
const merge = (first: Churn, next: Churn): Churn => ({
  ...first,
  at: next.at < first.at ? next.at : first.at,
  day: next.day < first.day ? next.day : first.day,
  eventId: next.at < first.at ? next.eventId : first.eventId,
  requestedAt: next.requestedAt < first.requestedAt ? next.requestedAt : first.requestedAt,
  reason: next.requestedAt < first.requestedAt ? next.reason : first.reason,
});

interface ChurnRow {
  subject: string;
  customer_id: string;
  day: string | null;
  currency: string | null;
  amount: string | number | null;
  before_day: string | null;
  before_currency: string | null;
  before_amount: string | number | null;
}

const movementOf = (day: string | null, currency: string | null, amount: string | number | null): Movement | null =>
  day !== null && currency !== null && amount !== null ? { day, currency, amount: Number(amount) } : null;

/**
 * The churns of a batch in one statement (and one for the daily MRR totals, moved by what each
 * churn fact changed: its old movement out, its new one in; nothing for a redelivered event).
 * Returns their customers.
 */
export async function recordChurns(tx: Sql, events: readonly RecordedEvent[]): Promise<string[]> {
  const churns = new Map<string, Churn>();
  for (const event of events) {
    const data = event.data as SubscriptionCancelledData;
    const churn: Churn = {
      subscriptionId: data.subscriptionId,
      customerId: data.customerId,
      eventId: event.id,
      at: data.effectiveAt,
      day: dayOf(data.effectiveAt),
      requestedAt: data.requestedAt,
      reason: data.reason,
    };
    const first = churns.get(churn.subscriptionId);
    churns.set(churn.subscriptionId, first ? merge(first, churn) : churn);
  }
  const rows = [...churns.values()];
  const { rows: changed } = await tx.query<ChurnRow>(
    `with before as (
       select subject, day::text as day, currency, mrr_delta from analytics_facts
       where kind = 'churned' and subject = any($1::text[])
     ), written as (
       insert into analytics_facts (kind, subject, event_id, customer_id, subscription_id, plan_id, currency,
                                    mrr_delta, at, day, requested_at, reason, cohort_month)
       select 'churned', t.s, t.e, t.c, t.s, n.plan_id, n.currency, -n.mrr_delta, t.at, t.d, t.req, t.reason,
              (select cohort_month from analytics_facts where kind = 'signup' and subject = t.c)
       from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::date[], $6::timestamptz[], $7::text[])
         as t(s, e, c, at, d, req, reason)
       left join analytics_facts n on n.kind = 'new' and n.subject = t.s
       on conflict (kind, subject) do update set
         at = least(analytics_facts.at, excluded.at),
         day = least(analytics_facts.day, excluded.day),
         reason = case when excluded.requested_at < analytics_facts.requested_at then excluded.reason else analytics_facts.reason end,
         requested_at = least(analytics_facts.requested_at, excluded.requested_at),
         event_id = case when excluded.at < analytics_facts.at then excluded.event_id else analytics_facts.event_id end
       returning subject, customer_id, day::text as day, currency, mrr_delta
     )
     select w.subject, w.customer_id, w.day, w.currency, w.mrr_delta as amount,
            b.day as before_day, b.currency as before_currency, b.mrr_delta as before_amount
     from written w left join before b on b.subject = w.subject`,
    [
      rows.map((churn) => churn.subscriptionId),
      rows.map((churn) => churn.eventId),
      rows.map((churn) => churn.customerId),
      rows.map((churn) => churn.at),
      rows.map((churn) => churn.day),
      rows.map((churn) => churn.requestedAt),
      rows.map((churn) => churn.reason),
    ],
  );
  const movements: Movement[] = [];
  for (const row of changed) {
    const before = movementOf(row.before_day, row.before_currency, row.before_amount);
    const after = movementOf(row.day, row.currency, row.amount);
    if (before?.day === after?.day && before?.currency === after?.currency && before?.amount === after?.amount)
      continue;
    if (before) movements.push({ ...before, amount: -before.amount });
    if (after) movements.push(after);
  }
  await addToDailyMrr(tx, movements);
  return rows.map((churn) => churn.customerId);
}

/**
 * The retention of customers whose facts changed, in two statements: customers have one
 * subscription each (registration creates it), so a customer churns when all of theirs did;
 * one with nothing churned keeps `retained_months` null.
 */
export async function refreshRetention(tx: Sql, customers: readonly string[]): Promise<void> {
  const { rows } = await tx.query<{ customer_id: string; kind: string; subject: string; at: Date }>(
    `select customer_id, kind, subject, at from analytics_facts
     where customer_id = any($1::text[]) and kind in ('signup', 'new', 'churned')`,
    [customers],
  );
  const byCustomer = new Map<string, typeof rows>();
  for (const row of rows) byCustomer.set(row.customer_id, [...(byCustomer.get(row.customer_id) ?? []), row]);
  const retained: { customerId: string; months: number | null }[] = [];
  for (const [customerId, facts] of byCustomer) {
    const signup = facts.find((row) => row.kind === 'signup');
    const churned = new Map(facts.filter((row) => row.kind === 'churned').map((row) => [row.subject, row.at]));
    if (!signup || churned.size === 0) continue;
    const started = facts.filter((row) => row.kind === 'new');
    const allChurned = started.length > 0 && started.every((row) => churned.has(row.subject));
    const lastChurn = allChurned
      ? new Date(Math.max(...started.map((row) => churned.get(row.subject)!.getTime())))
      : null;
    retained.push({ customerId, months: lastChurn ? retainedMonths(signup.at, lastChurn) : null });
  }
  if (retained.length === 0) return;
  // A signup whose retained_months changes moves from one count of its day to another (\`before\`
  // reads the row as it was before this statement).
  await tx.query(
    `with changed as (
       update analytics_facts f set retained_months = t.m
       from unnest($1::text[], $2::int[]) as t(c, m), analytics_facts before
       where f.kind = 'signup' and f.subject = t.c and before.kind = 'signup' and before.subject = t.c
         and f.retained_months is distinct from t.m
       returning f.day, f.cohort_month, before.retained_months as before, f.retained_months as after
     ), moves as (
       select day, cohort_month, before as retained_months, -1 as n from changed
       union all
       select day, cohort_month, after, 1 from changed
     )
     insert into analytics_cohort_days (day, retained_months, cohort_month, day_of_month, customers)
     select day, retained_months, cohort_month, extract(day from day), sum(n) from moves
     group by day, retained_months, cohort_month
     on conflict (day, retained_months) do update set customers = analytics_cohort_days.customers + excluded.customers`,
    [retained.map((row) => row.customerId), retained.map((row) => row.months)],
  );
}
