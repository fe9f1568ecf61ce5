import type { CustomerRegisteredData } from '../../domain/events/customer-registered.ts';
import type { SubscriptionCancelledData } from '../../domain/events/subscription-cancelled.ts';
import type { SubscriptionCreatedData } from '../../domain/events/subscription-created.ts';
import { defineConsumer, type ConsumerDefinition } from '../../kernel/consumers/consumer.ts';
import type { Sql } from '../../kernel/db/database.ts';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';
import { dayOf, monthlyRecurring } from './monthly-recurring.ts';

export const ANALYTICS_PIPELINE = 'analytics';

const cohortMonthOf = (registeredAt: string): string => `${registeredAt.slice(0, 7)}-01`;

async function recordSignup(tx: Sql, eventId: string, data: CustomerRegisteredData): Promise<void> {
  const cohort = cohortMonthOf(data.registeredAt);
  await tx.query(
    `insert into analytics_facts (kind, subject, event_id, customer_id, plan_id, at, day, cohort_month)
     values ('signup', $1, $2, $1, $3, $4, $5, $6) on conflict (kind, subject) do nothing`,
    [data.customerId, eventId, data.planId, data.registeredAt, dayOf(data.registeredAt), cohort],
  );
  // The saga registers the customer after creating the subscription: give its facts their cohort.
  await tx.query(`update analytics_facts set cohort_month = $2 where customer_id = $1 and cohort_month is null`, [data.customerId, cohort]);
}

async function recordNew(tx: Sql, eventId: string, data: SubscriptionCreatedData): Promise<void> {
  const mrr = monthlyRecurring(data.price.amount, data.interval);
  await tx.query(
    `insert into analytics_facts (kind, subject, event_id, customer_id, subscription_id, plan_id, currency, mrr_delta, at, day, cohort_month)
     values ('new', $1, $2, $3, $1, $4, $5, $6, $7, $8,
             (select cohort_month from analytics_facts where kind = 'signup' and subject = $3))
     on conflict (kind, subject) do nothing`,
    [data.subscriptionId, eventId, data.customerId, data.planId, data.price.currency, mrr, data.createdAt, dayOf(data.createdAt)],
  );
  // A cancellation delivered before its creation (another topic) learns its plan and MRR now.
  await tx.query(`update analytics_facts set plan_id = $2, currency = $3, mrr_delta = -$4::bigint where kind = 'churned' and subject = $1 and mrr_delta is null`, [
    data.subscriptionId,
    data.planId,
    data.price.currency,
    mrr,
  ]);
}

/**
 * A subscription churns once: a second cancellation (now, after one at period end) only brings
 * the churn forward, and the first request stays the cancellation that is counted.
 */
async function recordChurn(tx: Sql, eventId: string, data: SubscriptionCancelledData): Promise<void> {
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
    [data.subscriptionId, eventId, data.customerId, data.effectiveAt, dayOf(data.effectiveAt), data.requestedAt, data.reason],
  );
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
