import type { EventStore, EventRow } from '../../kernel/store/event-store.ts';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';

export interface EventFilter {
  type?: string | undefined;
  stream?: string | undefined;
  customer?: string | undefined;
}

const COLUMNS =
  'position, tx_id::text, event_id, stream_id, version, type, schema_version, data, metadata, partition_key, occurred_at';

/** Reads of the store for the console: newest first, one stream, one event and its relatives. */
export class EventBrowser {
  constructor(private readonly store: EventStore) {}

  /** The global log newest first (by position), filtered; `before` pages back. */
  async latest(filter: EventFilter, options: { before?: number | undefined; limit: number }): Promise<RecordedEvent[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: string, value: unknown) => (
      params.push(value),
      where.push(clause.replace('?', `$${params.length}`))
    );
    if (filter.type) add('type = ?', filter.type);
    if (filter.stream) add('stream_id = ?', filter.stream);
    if (filter.customer) add('partition_key = ?', filter.customer);
    if (options.before !== undefined) add('position < ?', options.before);
    params.push(options.limit);
    return this.query(
      `select ${COLUMNS} from events ${where.length ? `where ${where.join(' and ')}` : ''} order by position desc limit $${params.length}`,
      params,
    );
  }

  async byId(id: string): Promise<RecordedEvent | undefined> {
    return (await this.query(`select ${COLUMNS} from events where event_id = $1`, [id]))[0];
  }

  /** Events of one correlation (a request and everything it caused), oldest first. */
  async correlated(correlationId: string, limit = 200): Promise<RecordedEvent[]> {
    return this.query(
      `select ${COLUMNS} from events where metadata->>'correlationId' = $1 order by position limit $2`,
      [correlationId, limit],
    );
  }

  /** Events caused by this one. */
  async causedBy(eventId: string, limit = 200): Promise<RecordedEvent[]> {
    return this.query(`select ${COLUMNS} from events where metadata->>'causationId' = $1 order by position limit $2`, [
      eventId,
      limit,
    ]);
  }

  private async query(sql: string, params: unknown[]): Promise<RecordedEvent[]> {
    const { rows } = await this.store.db.query<EventRow>(sql, params);
    return rows.map((row) => this.store.decode(row));
  }
}

export const matches = (event: RecordedEvent, filter: EventFilter): boolean =>
  (!filter.type || event.type === filter.type) &&
  (!filter.stream || event.streamId === filter.stream) &&
  (!filter.customer || event.partitionKey === filter.customer);
