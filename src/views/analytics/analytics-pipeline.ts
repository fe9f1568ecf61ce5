import type { SubscriptionCancelledData } from '../../domain/events/subscription-cancelled.ts';
import { defineConsumer, type ConsumerDefinition } from '../../kernel/consumers/consumer.ts';
import type { Sql } from '../../kernel/db/database.ts';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';
import { addToDailyMrr, recordNewSubscriptions, recordSignups, type Movement } from './analytics-batch-facts.ts';
import { dayOf } from './monthly-recurring.ts';
import { retainedMonths } from './retained-months.ts';

export const ANALYTICS_PIPELINE = 'analytics';

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
  await addToDailyMrr(tx, [...(before ? [{ ...before, amount: -before.amount }] : []), ...(after ? [after] : [])]);
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
}

/**
 * Facts from a batch of events, a few statements for the whole batch: the signups, then the new
 * subscriptions (their cohorts and MRR from the signups), then the churns one by one (rare), then
 * the retention of the customers whose churn facts changed. The facts do not depend on the order
 * the topics arrive in, so taking them by kind gives what one at a time would.
 */
async function recordFacts(tx: Sql, events: readonly RecordedEvent[]): Promise<void> {
  const ofType = (type: string) => events.filter((event) => event.type === type);
  const signups = ofType('CustomerRegistered');
  const created = ofType('SubscriptionCreated');
  const touched = new Set<string>();
  if (signups.length > 0) for (const customer of await recordSignups(tx, signups)) touched.add(customer);
  if (created.length > 0) for (const customer of await recordNewSubscriptions(tx, created)) touched.add(customer);
  for (const churn of ofType('SubscriptionCancelled')) {
    const data = churn.data as SubscriptionCancelledData;
    await recordChurn(tx, churn.id, data);
    touched.add(data.customerId);
  }
  if (touched.size === 0) return;
  // Only a customer with a churn has a retention to work out.
  const { rows } = await tx.query<{ customer_id: string }>(
    `select distinct customer_id from analytics_facts where kind = 'churned' and customer_id = any($1::text[])`,
    [[...touched]],
  );
  for (const { customer_id } of rows) await refreshRetention(tx, customer_id);
}

/** Turns what happened to customers and subscriptions into facts, written in the inbox's transaction (exactly once). */
export const analyticsPipeline = (): ConsumerDefinition =>
  defineConsumer({
    name: ANALYTICS_PIPELINE,
    topics: ['customer.registered', 'subscription.created', 'subscription.cancelled'],
    handle: (event, { tx }) => recordFacts(tx, [event]),
    handleBatch: (events, { tx }) => recordFacts(tx, events),
  });
