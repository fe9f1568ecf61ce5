/** Who caused an event and in answer to what: carried from command to event to reaction. */
export interface EventMetadata {
  correlationId: string;
  causationId: string | null;
  actor: string;
  /** The W3C traceparent of the span that appended it (the request, the saga, the consumer). */
  traceparent?: string;
}

/** A position in the global log: events are read in (txId, position) order. */
export interface LogPosition {
  txId: string;
  position: number;
}

export const LOG_START: LogPosition = Object.freeze({ txId: '0', position: 0 });

export interface RecordedEvent<Data = unknown> {
  id: string;
  type: string;
  schemaVersion: number;
  streamId: string;
  version: number;
  position: number;
  txId: string;
  occurredAt: Date;
  partitionKey: string;
  data: Data;
  metadata: EventMetadata;
}

/**
 * An event as a projection reads it (`EventStore.readProjected`): its type and data, and where it
 * is in the log. No view reads the rest of the envelope; a projection that needs more of it adds
 * the field here and to that read.
 */
export type ProjectedEvent<Data = unknown> = Pick<
  RecordedEvent<Data>,
  'type' | 'schemaVersion' | 'position' | 'txId' | 'data'
>;

/** An event to append; the store fills in the rest. */
export interface NewEvent {
  /** UUID v7; given by the caller when a retried command must not append twice. */
  id?: string;
  type: string;
  data: unknown;
  metadata?: Partial<EventMetadata>;
}

/** `any`, `no_stream`, `stream_exists`, or the exact current version (0 = empty stream). */
export type ExpectedVersion = 'any' | 'no_stream' | 'stream_exists' | number;

export interface AppendResult {
  streamId: string;
  /** The stream's version after the append. */
  version: number;
  /** The global position of the last event written (for read-your-writes). */
  position: number;
  events: { id: string; version: number; position: number }[];
}
