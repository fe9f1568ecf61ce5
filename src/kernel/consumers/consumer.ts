import type { Sql } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import type { EventMetadata, RecordedEvent } from '../store/envelope.ts';

export interface HandlerContext {
  /** The transaction the effect must be written in: it commits with the inbox record. */
  tx: Sql;
  /** A logger carrying the event's correlation and causation ids. */
  log: Logger;
  /** Metadata for events this reaction appends: same correlation, caused by this event. */
  metadata: EventMetadata;
}

export interface ConsumerDefinition {
  /** The consumer group: one per consumer, also its inbox, checkpoint and dead-letter topic. */
  name: string;
  topics: string[];
  handle(event: RecordedEvent, context: HandlerContext): Promise<void>;
  /**
   * Whether the runner may apply several events in one transaction (default true). A batch that
   * fails is rolled back and its events run again one at a time: a consumer whose handler has an
   * effect outside the transaction (an email sent) would repeat it for the events before the
   * failing one, so it sets `batch: false`.
   */
  batch?: boolean;
}

export const defineConsumer = (definition: ConsumerDefinition): ConsumerDefinition => definition;

export const deadLetterTopic = (consumer: string): string => `${consumer}.dlq`;
