import type { Sql } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import type { EventMetadata, RecordedEvent } from '../store/envelope.ts';
import { traceIdOf } from '../tracing.ts';
import type { HandlerContext } from './consumer.ts';

/** The logger of a consumer handling one event: the event's ids and trace on every line. */
export const eventLogger = (log: Logger, consumer: string, event: RecordedEvent): Logger =>
  log.child({
    consumer,
    eventId: event.id,
    eventType: event.type,
    correlationId: event.metadata.correlationId,
    causationId: event.metadata.causationId,
    traceId: traceIdOf(event.metadata.traceparent),
  });

/** Metadata for the events a consumer appends in reaction to `event`: same correlation, caused by it. */
export const reactionMetadata = (consumer: string, event: RecordedEvent, traceparent: string): EventMetadata => ({
  correlationId: event.metadata.correlationId,
  causationId: event.id,
  actor: `consumer:${consumer}`,
  traceparent,
});

/**
 * A handler's context. Its logger (a pino child, not free) and its metadata are made when the
 * handler reads them; a class, not an object literal with closures: a batch makes one per event.
 */
export class EventContext implements HandlerContext {
  private logger: Logger | undefined;
  private made: EventMetadata | undefined;

  constructor(
    readonly tx: Sql,
    private readonly consumer: string,
    private readonly event: RecordedEvent,
    private readonly traceparent: string,
    private readonly consumerLog: Logger,
    log?: Logger,
  ) {
    this.logger = log;
  }

  get log(): Logger {
    return (this.logger ??= eventLogger(this.consumerLog, this.consumer, this.event));
  }

  get metadata(): EventMetadata {
    return (this.made ??= reactionMetadata(this.consumer, this.event, this.traceparent));
  }
}
