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

/** What a batch handler gets: one transaction for the whole batch, also holding the inbox rows. */
export interface BatchContext {
  tx: Sql;
  /** The consumer's logger (per-event fields are the handler's to add). */
  log: Logger;
  /** Metadata for events appended in reaction to `event`. */
  metadataOf(event: RecordedEvent): EventMetadata;
}

/**
 * Events of a batch whose effect failed and for which the handler wrote nothing, by event id:
 * the runner drops their inbox rows, commits the rest, then retries each of them alone.
 */
export type BatchFailures = ReadonlyMap<string, unknown>;

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
  /**
   * The same effect as `handle` for several new events at once (delivery order), set-based: a few
   * statements per batch instead of a few per event. Runs in the batch's transaction; a throw
   * rolls it back and the events run again one at a time through `handle`. It may instead report
   * events that failed on their own (an email the server refused) when it wrote nothing for them.
   */
  handleBatch?(events: readonly RecordedEvent[], context: BatchContext): Promise<BatchFailures | void>;
}

export const defineConsumer = (definition: ConsumerDefinition): ConsumerDefinition => definition;

export const deadLetterTopic = (consumer: string): string => `${consumer}.dlq`;
