import type { EventCatalog } from '../catalog/catalog.ts';
import type { PositionMark } from '../consumers/ordered-batch.ts';
import type { EventRow } from '../store/event-store.ts';
import type { RecordedEvent } from '../store/envelope.ts';
import type { BusMessage } from './message.ts';

export const CLOUDEVENTS_SOURCE = '/tributary';

/** Why a message can never be processed, whatever the number of attempts. */
export class PoisonMessageError extends Error {
  override readonly name = 'PoisonMessageError';
}

/** A stored event as a CloudEvents 1.0 message in Kafka binary mode: attributes in `ce_*` headers, data as the body. */
export function toCloudEvent(row: EventRow, topic: string): BusMessage {
  return { topic, key: row.partition_key, headers: cloudEventHeaders(row), value: JSON.stringify(row.data) };
}

/**
 * The same message with no broker in between (the embedded bus): the runner reads the event from
 * the stored row as the store parsed it, and the CloudEvents headers, the body's JSON text and the
 * origin are made only if something asks for them (a dead letter). A class, not an object literal
 * with getters: the bus makes one per event of a page, and each literal's getters were closures.
 */
class LocalCloudEvent implements BusMessage {
  readonly key: string;
  readonly body: unknown;
  private made: Record<string, string> | undefined;

  constructor(
    readonly row: EventRow,
    readonly topic: string,
    readonly mark: PositionMark | undefined,
  ) {
    this.key = row.partition_key;
    this.body = row.data;
  }

  get headers(): Record<string, string> {
    return (this.made ??= cloudEventHeaders(this.row));
  }

  get value(): string {
    return JSON.stringify(this.row.data);
  }

  get origin(): Record<string, string | number> {
    return { position: this.row.position };
  }
}

/** A stored event as a local message; `mark`: where the bus keeps the groups' positions (see `BusMessage.mark`). */
export function toLocalCloudEvent(row: EventRow, topic: string, mark?: PositionMark): BusMessage {
  return new LocalCloudEvent(row, topic, mark);
}

function cloudEventHeaders(row: EventRow): Record<string, string> {
  return {
    ce_specversion: '1.0',
    ce_id: row.event_id,
    ce_type: row.type,
    ce_source: CLOUDEVENTS_SOURCE,
    ce_subject: row.stream_id,
    ce_time: new Date(row.occurred_at).toISOString(),
    'content-type': 'application/json',
    ce_schemaversion: String(row.schema_version),
    ce_streamversion: String(row.version),
    ce_position: String(row.position),
    ce_txid: String(row.tx_id),
    ce_correlationid: row.metadata.correlationId,
    ...(row.metadata.causationId ? { ce_causationid: row.metadata.causationId } : {}),
    ce_actor: row.metadata.actor,
    // The CloudEvents distributed-tracing extension, in binary mode.
    ...(row.metadata.traceparent ? { ce_traceparent: row.metadata.traceparent } : {}),
  };
}

const REQUIRED = ['ce_specversion', 'ce_id', 'ce_type', 'ce_source', 'ce_time'] as const;

/** Reads a message back into an event, validated and upcast; throws `PoisonMessageError` when it cannot be. */
export function fromCloudEvent(catalog: EventCatalog, message: BusMessage): RecordedEvent {
  if (message.row) return fromStoredRow(catalog, message.row);
  const headers = message.headers;
  for (const name of REQUIRED) {
    if (!headers[name]) throw new PoisonMessageError(`not a CloudEvent: missing header ${name}`);
  }
  if (headers.ce_specversion !== '1.0')
    throw new PoisonMessageError(`unsupported CloudEvents specversion ${headers.ce_specversion}`);
  const type = headers.ce_type!;
  if (!catalog.has(type)) throw new PoisonMessageError(`unknown event type ${type}`);
  let body: unknown = message.body;
  try {
    body ??= JSON.parse(message.value);
  } catch {
    throw new PoisonMessageError(`${type}: body is not JSON`);
  }
  const decoded = decode(catalog, type, Number(headers.ce_schemaversion ?? catalog.get(type).version), body);
  return {
    id: headers.ce_id!,
    type,
    schemaVersion: decoded.schemaVersion,
    streamId: headers.ce_subject ?? '',
    version: Number(headers.ce_streamversion ?? 0),
    position: Number(headers.ce_position ?? 0),
    txId: headers.ce_txid ?? '0',
    occurredAt: new Date(headers.ce_time!),
    partitionKey: message.key,
    data: decoded.data,
    metadata: {
      correlationId: headers.ce_correlationid ?? headers.ce_id!,
      causationId: headers.ce_causationid ?? null,
      actor: headers.ce_actor ?? 'unknown',
      ...(headers.ce_traceparent ? { traceparent: headers.ce_traceparent } : {}),
    },
  };
}

/** The event a local message's headers would give, read from its row without writing them and parsing them back. */
function fromStoredRow(catalog: EventCatalog, row: EventRow): RecordedEvent {
  if (!catalog.has(row.type)) throw new PoisonMessageError(`unknown event type ${row.type}`);
  const decoded = decode(catalog, row.type, row.schema_version, row.data);
  const { correlationId, causationId, actor, traceparent } = row.metadata;
  return {
    id: row.event_id,
    type: row.type,
    schemaVersion: decoded.schemaVersion,
    streamId: row.stream_id,
    version: Number(row.version),
    position: Number(row.position),
    txId: String(row.tx_id),
    occurredAt: new Date(row.occurred_at),
    partitionKey: row.partition_key,
    data: decoded.data,
    metadata: {
      correlationId: correlationId ?? row.event_id,
      causationId: causationId || null,
      actor: actor ?? 'unknown',
      ...(traceparent ? { traceparent } : {}),
    },
  };
}

function decode(catalog: EventCatalog, type: string, schemaVersion: number, body: unknown) {
  try {
    return catalog.decode(type, schemaVersion, body);
  } catch (error) {
    throw new PoisonMessageError((error as Error).message);
  }
}
