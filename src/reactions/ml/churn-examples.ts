import type { ChurnFeatures } from '../../domain/churn/churn-features.ts';
import type {
  SubscriptionCancelledData,
  SubscriptionCreatedData,
  SubscriptionRenewedData,
} from '../../domain/events/index.ts';
import type { Clock } from '../../kernel/clock.ts';
import { PermanentError } from '../../kernel/consumers/permanent-error.ts';
import type { Sql } from '../../kernel/db/database.ts';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';
import type { EventStore } from '../../kernel/store/event-store.ts';
import { subscriptionStream } from '../../services/streams.ts';
import type { ChurnExample } from './train-churn-model.ts';

const DAY_MS = 86_400_000;

/** Cancellations that are not a customer leaving: the registration saga undoing a failed sign-up. */
const NOT_CHURN_REASONS = new Set(['registration_failed']);

/**
 * The subscription's features as they stood when `at` happened: from its stream up to (not
 * including) that event. Failed payments count every SubscriptionPastDue (each dunning attempt).
 */
export function featuresBefore(history: readonly RecordedEvent[], at: Date): ChurnFeatures | null {
  const created = history.find((event) => event.type === 'SubscriptionCreated');
  if (!created) return null;
  const data = created.data as SubscriptionCreatedData;
  const renewals = history.filter((event) => event.type === 'SubscriptionRenewed').length;
  return {
    planId: data.planId,
    priceAmount: data.price.amount,
    currency: data.price.currency,
    interval: data.interval,
    tenurePeriods: 1 + renewals,
    renewals,
    failedPayments: history.filter((event) => event.type === 'SubscriptionPastDue').length,
    daysSinceSignup: Math.max(0, Math.floor((at.getTime() - Date.parse(data.createdAt)) / DAY_MS)),
  };
}

/** The stream's events before `event`: by its version, or by its id when the bus did not carry the version. */
function historyBefore(stream: readonly RecordedEvent[], streamId: string, event: RecordedEvent): RecordedEvent[] {
  if (event.version > 0) return stream.filter((candidate) => candidate.version < event.version);
  const index = stream.findIndex((candidate) => candidate.id === event.id);
  if (index < 0) throw new PermanentError(`${event.type} ${event.id} is not in ${streamId}`);
  return stream.slice(0, index);
}

type Labelled = ChurnExample & { observedAt: Date };

/** The example an event makes, or null for one that teaches nothing about churn. */
export async function exampleOf(store: EventStore, tx: Sql, event: RecordedEvent): Promise<Labelled | null> {
  return (await examplesOf(store, tx, [event]))[0]!;
}

/** What an event says about churn before its stream is read: its subscription, label and time. */
function labelOf(event: RecordedEvent): { subscriptionId: string; churned: boolean; observedAt: Date } | null {
  let subscriptionId: string;
  let churned: boolean;
  let observedAt: Date;
  if (event.type === 'SubscriptionRenewed') {
    const data = event.data as SubscriptionRenewedData;
    ({ subscriptionId } = data);
    churned = false;
    observedAt = new Date(data.renewedAt);
  } else if (event.type === 'SubscriptionCancelled') {
    const data = event.data as SubscriptionCancelledData;
    if (NOT_CHURN_REASONS.has(data.reason)) return null;
    ({ subscriptionId } = data);
    churned = true;
    // When the customer (or dunning) decided, not when an at-period-end cancellation takes effect.
    observedAt = new Date(data.requestedAt);
  } else {
    return null;
  }
  return { subscriptionId, churned, observedAt };
}

const streamOf = (event: RecordedEvent, subscriptionId: string) => event.streamId || subscriptionStream(subscriptionId);

/** The examples of several events (null for those that teach nothing), their streams read in one query. */
export async function examplesOf(
  store: EventStore,
  tx: Sql,
  events: readonly RecordedEvent[],
): Promise<(Labelled | null)[]> {
  const labels = events.map(labelOf);
  const streams = await store.readStreams(
    labels.flatMap((label, index) => (label ? [streamOf(events[index]!, label.subscriptionId)] : [])),
    { tx, trusted: true },
  );
  return labels.map((label, index) => {
    if (!label) return null;
    const event = events[index]!;
    const streamId = streamOf(event, label.subscriptionId);
    const features = featuresBefore(historyBefore(streams.get(streamId) ?? [], streamId, event), label.observedAt);
    if (!features)
      throw new PermanentError(
        `${event.type} ${event.id}: no SubscriptionCreated before version ${event.version} of ${streamId}`,
      );
    return { ...label, features };
  });
}

/** Records the example in the handler's transaction; false when this event's example is already there. */
export async function recordExample(
  tx: Sql,
  eventId: string,
  example: ChurnExample & { observedAt: Date },
  clock: Clock,
): Promise<boolean> {
  const { rowCount } = await tx.query(
    `insert into churn_examples (event_id, subscription_id, churned, features, observed_at, recorded_at)
     values ($1, $2, $3, $4, $5, $6) on conflict (event_id) do nothing`,
    [
      eventId,
      example.subscriptionId,
      example.churned,
      JSON.stringify(example.features),
      example.observedAt,
      clock.now(),
    ],
  );
  return rowCount > 0;
}

/** Records several events' examples at once; answers how many were new. */
export async function recordExamples(
  tx: Sql,
  examples: readonly { eventId: string; example: Labelled }[],
  clock: Clock,
): Promise<number> {
  if (examples.length === 0) return 0;
  const { rowCount } = await tx.query(
    `insert into churn_examples (event_id, subscription_id, churned, features, observed_at, recorded_at)
     select e.event_id, e.subscription_id, e.churned, e.features, e.observed_at, $6
     from unnest($1::uuid[], $2::uuid[], $3::bool[], $4::jsonb[], $5::timestamptz[]) as e(event_id, subscription_id, churned, features, observed_at)
     on conflict (event_id) do nothing`,
    [
      examples.map(({ eventId }) => eventId),
      examples.map(({ example }) => example.subscriptionId),
      examples.map(({ example }) => example.churned),
      examples.map(({ example }) => JSON.stringify(example.features)),
      examples.map(({ example }) => example.observedAt.toISOString()),
      clock.now(),
    ],
  );
  return rowCount;
}

/** Every example, in the order recorded. */
export async function loadExamples(sql: Sql): Promise<ChurnExample[]> {
  const { rows } = await sql.query<{ subscription_id: string; churned: boolean; features: ChurnFeatures }>(
    'select subscription_id::text as subscription_id, churned, features from churn_examples order by seq',
  );
  return rows.map((row) => ({ subscriptionId: row.subscription_id, churned: row.churned, features: row.features }));
}
