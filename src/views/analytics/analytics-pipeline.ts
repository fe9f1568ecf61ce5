import { defineConsumer, type ConsumerDefinition } from '../../kernel/consumers/consumer.ts';
import type { Sql } from '../../kernel/db/database.ts';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';
import { recordNewSubscriptions, recordSignups } from './analytics-batch-facts.ts';
import { recordChurns, refreshRetention } from './churn-facts.ts';

export const ANALYTICS_PIPELINE = 'analytics';

/**
 * Facts from a batch of events, a few statements for the whole batch: the signups, then the new
 * subscriptions (their cohorts and MRR from the signups), then the churns, then the retention of
 * the customers they touched. The facts do not depend on the order
 * the topics arrive in, so taking them by kind gives what one at a time would.
 */
async function recordFacts(tx: Sql, events: readonly RecordedEvent[]): Promise<void> {
  const ofType = (type: string) => events.filter((event) => event.type === type);
  const signups = ofType('CustomerRegistered');
  const created = ofType('SubscriptionCreated');
  const churns = ofType('SubscriptionCancelled');
  const touched = new Set<string>();
  if (signups.length > 0) for (const customer of await recordSignups(tx, signups)) touched.add(customer);
  if (created.length > 0) for (const customer of await recordNewSubscriptions(tx, created)) touched.add(customer);
  if (churns.length > 0) for (const customer of await recordChurns(tx, churns)) touched.add(customer);
  if (touched.size > 0) await refreshRetention(tx, [...touched]);
}

/** Turns what happened to customers and subscriptions into facts, written in the inbox's transaction (exactly once). */
export const analyticsPipeline = (): ConsumerDefinition =>
  defineConsumer({
    name: ANALYTICS_PIPELINE,
    topics: ['customer.registered', 'subscription.created', 'subscription.cancelled'],
    handle: (event, { tx }) => recordFacts(tx, [event]),
    handleBatch: (events, { tx }) => recordFacts(tx, events),
  });
