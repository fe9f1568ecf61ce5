import type { CustomerRegisteredData } from '../../domain/events/customer-registered.ts';
import type { SubscriptionCancelledData } from '../../domain/events/subscription-cancelled.ts';
import type { SubscriptionCreatedData } from '../../domain/events/subscription-created.ts';
import { defineConsumer, type ConsumerDefinition } from '../../kernel/consumers/consumer.ts';
import type { Sql } from '../../kernel/db/database.ts';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';
import { dayOf, monthlyRecurring } from './monthly-recurring.ts';
import { retainedMonths } from './retained-months.ts';

export const ANALYTICS_PIPELINE = 'analytics';

const cohortMonthOf = (registeredAt: string): string => `${registeredAt.slice(0, 7)}-01`;

interface Movement {
  day: string;
  currency: string;
  amount: number;
}

const movementOf = async (tx: Sql, kind: 'new' | 'churned', subscriptionId: string): Promise<Movement | null> => {
  const { rows } = await tx.query<{ day: string; currency: string | null; amount: string | number | null }>(
    `select day::text as day, currency, mrr_delta as amount from analytics_facts where kind = $1 and subject = $2`,
    [kind, subscriptionId],
  );
  const row = rows[0];
  return row && row.currency !== null && row.amount !== null
    ? { day: row.day, currency: row.currency, amount: Number(row.amount) }
    : null;
};

const addToDailyMrr = (tx: Sql, movement: Movement) =>
  tx.query(
    `insert into analytics_mrr_daily (day, currency, amount) values ($1, $2, $3)
     on conflict (day, currency) do update set amount = analytics_mrr_daily.amount + excluded.amount`,
    [movement.day, movement.currency, movement.amount],
  );

/**
 * Runs `write` on a subscription's MRR fact and moves the daily MRR totals by what it changed:
 * the fact's old movement out, its new one in (nothing when a redelivered event changed nothing).
 */
async function keepingDailyMrr(
  tx: Sql,
  kind: 'new' | 'churned',
  subscriptionId: string,
  write: () => Promise<void>,
): Promise<void> {
  const before = await movementOf(tx, kind, subscriptionId);
  await write();
  const after = await movementOf(tx, kind, subscriptionId);
  if (before?.day === after?.day && before?.currency === after?.currency && before?.amount === after?.amount) return;
  if (before) await addToDailyMrr(tx, { ...before, amount: -before.amount });
  if (after) await addToDailyMrr(tx, after);
}

/** Customers have one subscription each (registration creates it): the customer churns when it does. */
async function refreshRetention(tx: Sql, customerId: string): Promise<void> {
  const { rows } = await tx.query<{ kind: string; subject: string; at: Date }>(
    `select kind, subject, at from analytics_facts where customer_id = $1 and kind in ('signup', 'new', 'churned')`,
    [customerId],
  );
  const signup = rows.find((row) => row.kind === 'signup');
  if (!signup) return;
  const started = rows.filter((row) => row.kind === 'new');
  const churned = new Map(rows.filter((row) => row.kind === 'churned').map((row) => [row.subject, row.at]));
  const allChurned = started.length > 0 && started.every((row) => churned.has(row.subject));
  const lastChurn = allChurned
    ? new Date(Math.max(...started.map((row) => churned.get(row.subject)!.getTime())))
    : null;
  if (churned.size === 0) return; // nothing churned: retained_months stays null
  await tx.query(`update analytics_facts set retained_months = $2 where kind = 'signup' and subject = $1`, [
    customerId,
    lastChurn ? retainedMonths(signup.at, lastChurn) : null,
  ]);
}

async function recordSignup(tx: Sql, eventId: string, data: CustomerRegisteredData): Promise<void> {
  const cohort = cohortMonthOf(data.registeredAt);
  await tx.query(
    `insert into analytics_facts (kind, subject, event_id, customer_id, plan_id, at, day, cohort_month)
     values ('signup', $1, $2, $1, $3, $4, $5, $6) on conflict (kind, subject) do nothing`,
    [data.customerId, eventId, data.planId, data.registeredAt, dayOf(data.registeredAt), cohort],
  );
  // The saga registers the customer after creating the subscription: give its facts their cohort.
  await tx.query(`update analytics_facts set cohort_month = $2 where customer_id = $1 and cohort_month is null`, [
    data.customerId,
    cohort,
  ]);
  await refreshRetention(tx, data.customerId);
}

async function recordNew(tx: Sql, eventId: string, data: SubscriptionCreatedData): Promise<void> {
  const mrr = monthlyRecurring(data.price.amount, data.interval);
  // Only a fact written now moves the daily totals (a redelivered event inserts nothing).
  const inserted = await tx.query<{ day: string }>(
    `insert into analytics_facts (kind, subject, event_id, customer_id, subscription_id, plan_id, currency, mrr_delta, at, day, cohort_month)
     values ('new', $1, $2, $3, $1, $4, $5, $6, $7, $8,
             (select cohort_month from analytics_facts where kind = 'signup' and subject = $3))
     on conflict (kind, subject) do nothing
     returning day::text as day`,
    [
      data.subscriptionId,
      eventId,
      data.customerId,
      data.planId,
      data.price.currency,
      mrr,
      data.createdAt,
      dayOf(data.createdAt),
    ],
  );
  if (inserted.rows[0])
    await addToDailyMrr(tx, { day: inserted.rows[0].day, currency: data.price.currency, amount: mrr });
  // A cancellation delivered before its creation (another topic) learns its plan and MRR now.
  const backfilled = await tx.query<{ day: string }>(
    `update analytics_facts set plan_id = $2, currency = $3, mrr_delta = -$4::bigint where kind = 'churned' and subject = $1 and mrr_delta is null returning day::text as day`,
    [data.subscriptionId, data.planId, data.price.currency, mrr],
  );
  if (backfilled.rows[0]) {
    await addToDailyMrr(tx, { day: backfilled.rows[0].day, currency: data.price.currency, amount: -mrr });
    await refreshRetention(tx, data.customerId);
  }
}

/**
 * A subscription churns once: a second cancellation (now, after one at period end) only brings
 * the churn forward, and the first request stays the cancellation that is counted.
 */
async function recordChurn(tx: Sql, eventId: string, data: SubscriptionCancelledData): Promise<void> {
  await keepingDailyMrr(tx, 'churned', data.subscriptionId, async () => {
    await tx.query(
      `insert into analytics_facts (kind, subject, event_id, customer_id, subscription_id, plan_id, currency, mrr_delta, at, day, requested_at, reason, cohort_month)
       select 'churned', $1, $2, $3, $1, n.plan_id, n.currency, -n.mrr_delta, $4, $5, $6, $7,
              (select cohort_month from analytics_facts where kind = 'signup' and subject = $3)
       from (select 1) one left join analytics_facts n on n.kind = 'new' and n.subject = $1
       on conflict (kind, subject) do update set
         at = least(analytics_facts.at, excluded.at),
         day = least(analytics_facts.day, excluded.day),
         reason = case when excluded.requested_at < analytics_facts.requested_at then excluded.reason else analytics_facts.reason end,
         requested_at = least(analytics_facts.requested_at, excluded.requested_at),
         event_id = case when excluded.at < analytics_facts.at then excluded.event_id else analytics_facts.event_id end`,
      [
        data.subscriptionId,
        eventId,
        data.customerId,
        data.effectiveAt,
        dayOf(data.effectiveAt),
        data.requestedAt,
        data.reason,
      ],
    );
  });
  await refreshRetention(tx, data.customerId);
}

/** Turns what happened to customers and subscriptions into facts, written in the inbox's transaction (exactly once). */
export const analyticsPipeline = (): ConsumerDefinition =>
  defineConsumer({
    name: ANALYTICS_PIPELINE,
    topics: ['customer.registered', 'subscription.created', 'subscription.cancelled'],
    async handle(event: RecordedEvent, { tx }) {
      switch (event.type) {
        case 'CustomerRegistered':
          return recordSignup(tx, event.id, event.data as CustomerRegisteredData);
        case 'SubscriptionCreated':
          return recordNew(tx, event.id, event.data as SubscriptionCreatedData);
        case 'SubscriptionCancelled':
          return recordChurn(tx, event.id, event.data as SubscriptionCancelledData);
      }
    },
  });
