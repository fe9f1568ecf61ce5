import { currentTraceparent } from '../tracing.ts';
import { uuidv7 } from '../ids.ts';
import type { EventCatalog } from '../catalog/catalog.ts';
import type { Clock } from '../clock.ts';
import type { Database, Sql } from '../db/database.ts';
import { eventsAppended } from '../metrics.ts';
import {
  LOG_START,
  type AppendResult,
  type ExpectedVersion,
  type LogPosition,
  type NewEvent,
  type ProjectedEvent,
  type RecordedEvent,
} from './envelope.ts';
import { AppendSignal } from './append-signal.ts';
import { GroupedCalls } from './grouped-calls.ts';
import { LogWatch } from './log-watch.ts';
import { ConcurrencyError, GuardError } from './errors.ts';
import { GUARD_FAILED } from '../db/guard.ts';
import { lastStatement } from '../db/lazy-transaction.ts';

export interface AppendOptions {
  expectedVersion?: ExpectedVersion;
  /** Append inside the caller's transaction (the effect and its events commit together). */
  tx?: Sql;
}

export interface StreamAppend {
  streamId: string;
  events: NewEvent[];
  expectedVersion?: ExpectedVersion;
}

interface EventRow {
  position: number;
  tx_id: string;
  event_id: string;
  stream_id: string;
  version: number;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: RecordedEvent['metadata'];
  partition_key: string;
  occurred_at: Date;
}

/** A row of `readProjected`: an event's place in the log, its type and (of the types asked) its data. */
interface ProjectedRow {
  position: number;
  tx_id: string;
  type: string;
  schema_version: number;
  data: unknown;
}

/** The notification the `events_appended` trigger sends at each commit of an append. */
const APPENDED_CHANNEL = 'tributary_events';

const COLUMNS =
  'position, tx_id, event_id, stream_id, version, type, schema_version, data, metadata, partition_key, occurred_at';

export class EventStore {
  /** Fires at every commit of an append (readers in this process wake up at once). */
  readonly appended = new AppendSignal();
  /** Where the followers of the log wait when they have read everything (one safety poll for all). */
  readonly watch = new LogWatch(this.appended, async () => {
    const head = await this.readableHead();
    return `${head.txId}:${head.position}`;
  });
  /** Wakes readers in this process and, through the database's notification, in every other. */
  private readonly committed = () => {
    this.appended.notify();
    this.db.notify(APPENDED_CHANNEL);
  };

  constructor(
    readonly db: Database,
    readonly catalog: EventCatalog,
    private readonly clock: Clock,
  ) {}

  /**
   * Wakes this process's readers (`appended`) at every commit of an append, by any process
   * (the database's notification); returns how to stop. Without it they see only this process's
   * appends at once, and the others at their next safety poll.
   */
  followCommits(): () => Promise<void> {
    return this.db.listen(APPENDED_CHANNEL, () => this.appended.notify());
  }

  /**
   * Appends events to one stream atomically; throws `ConcurrencyError` or `EventValidationError`.
   * Outside a transaction, appends made while others are in flight are sent together (see `grouped`).
   */
  async append(streamId: string, events: NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    if (events.length === 0) throw new RangeError('append needs at least one event');
    const append: EncodedAppend = {
      stream: streamId,
      expected: String(options.expectedVersion ?? 'any'),
      events: events.map((event) => this.encode(event)),
    };
    return options.tx ? this.appendAlone(append, options.tx) : this.grouped.call(append);
  }

  /**
   * Appends outside a transaction: a burst of them (1,000 callers a second) goes as a few
   * `append_streams` statements, one commit each, instead of a statement and a commit per call
   * queued on the pool ahead of the readers. Calls to one stream keep their order.
   */
  private readonly grouped = new GroupedCalls<EncodedAppend, AppendResult>({
    together: (appends) => this.appendTogether(appends),
    alone: (append) => this.appendAlone(append, this.db),
    keyOf: (append) => append.stream,
    concurrency: GROUPED_APPENDS_IN_FLIGHT,
    maxSize: GROUPED_APPENDS_MAX,
    oneCallsFault: statementRefused,
  });

  private async appendAlone(append: EncodedAppend, sql: Sql): Promise<AppendResult> {
    let rows: AppendedRow[];
    try {
      ({ rows } = await sql.query('select * from append_events($1, $2, $3)', [
        append.stream,
        append.expected,
        JSON.stringify(append.events),
      ]));
    } catch (error) {
      const { code, detail } = error as { code?: string; detail?: string };
      if (code === 'TR409') throw new ConcurrencyError(append.stream, expectedOf(append.expected), Number(detail));
      throw error;
    }
    for (const event of append.events) eventsAppended.inc({ type: event.type });
    sql.onCommit(this.committed);
    return resultOf(append.stream, rows);
  }

  /** Appends to distinct streams in one statement (all or nothing; the caller sends each alone if it fails). */
  private async appendTogether(appends: EncodedAppend[]): Promise<AppendResult[]> {
    const { rows } = await this.db.query<StreamRow>('select * from append_streams($1)', [JSON.stringify(appends)]);
    for (const append of appends) for (const event of append.events) eventsAppended.inc({ type: event.type });
    this.db.onCommit(this.committed);
    return resultsOf(
      appends.map((append) => append.stream),
      rows,
    );
  }

  /** Appends to several streams in one statement: all or nothing. */
  async appendMany(appends: StreamAppend[], tx?: Sql): Promise<AppendResult[]> {
    return this.appendStreams(appends, { tx });
  }

  /**
   * Appends to several streams, in order, in one statement that may also run `along`:
   * data-modifying CTEs (parameters numbered from $1; they may read `appended`, the rows
   * written) the last of which, named `guard`, must return a row, or the whole statement fails
   * with GuardError (a saga's checkpoint without its lease). Through a LazyTransaction, `last`
   * makes it the unit's last statement (alone, it commits by itself). `prepared`: see QueryOptions
   * (the CTEs must be of a few fixed texts, each a key lookup).
   */
  async appendStreams(
    appends: StreamAppend[],
    options: { tx?: Sql; along?: { ctes: string; params: unknown[] }; last?: boolean; prepared?: boolean } = {},
  ): Promise<AppendResult[]> {
    if (appends.some((append) => append.events.length === 0)) throw new RangeError('append needs at least one event');
    if (new Set(appends.map((append) => append.streamId)).size < appends.length)
      throw new RangeError('one append per stream');
    const encoded = appends.map(({ streamId, events, expectedVersion }) => ({
      stream: streamId,
      expected: String(expectedVersion ?? 'any'),
      events: events.map((event) => this.encode(event)),
    }));
    const { ctes = '', params = [] } = options.along ?? {};
    const text =
      `with appended as materialized (select * from append_streams($${params.length + 1}))${ctes ? `, ${ctes}` : ''} ` +
      `select a.*${ctes ? ', require_guard((select count(*) from guard))' : ''} from appended a`;
    const sql = options.tx ?? this.db;
    let rows: StreamRow[];
    try {
      const all = [...params, JSON.stringify(encoded)];
      const prepared = { prepared: options.prepared === true };
      ({ rows } = await (options.last ? lastStatement(sql, text, all, prepared) : sql.query(text, all, prepared)));
    } catch (error) {
      if ((error as { code?: string }).code === GUARD_FAILED) throw new GuardError();
      throw concurrencyErrorOf(error, appends) ?? error;
    }
    for (const { events } of encoded) for (const event of events) eventsAppended.inc({ type: event.type });
    sql.onCommit(this.committed);
    return resultsOf(
      appends.map(({ streamId }) => streamId),
      rows,
    );
  }

  /** A stream's events from `fromVersion` (1 = the first), upcast to their current schema. */
  async readStream(
    streamId: string,
    options: { fromVersion?: number; limit?: number; tx?: Sql } = {},
  ): Promise<RecordedEvent[]> {
    const { rows } = await (options.tx ?? this.db).query<EventRow>(
      `select ${COLUMNS} from events where stream_id = $1 and version >= $2 order by version limit $3`,
      [streamId, options.fromVersion ?? 1, options.limit ?? 1_000_000],
    );
    return rows.map((row) => this.decode(row));
  }

  /**
   * Several streams in one query (a consumer's batch): each stream's events in version order, [] for
   * one not found. `trusted`: data of the current version is taken as the store validated it at
   * append, not validated again (a consumer reading the streams its events refer to, as a projection
   * rebuilding; older versions are still upcast and validated).
   */
  async readStreams(
    streamIds: readonly string[],
    options: { tx?: Sql; trusted?: boolean } = {},
  ): Promise<Map<string, RecordedEvent[]>> {
    const unique = [...new Set(streamIds)];
    const streams = new Map<string, RecordedEvent[]>(unique.map((id) => [id, []]));
    if (unique.length === 0) return streams;
    const { rows } = await (options.tx ?? this.db).query<EventRow>(
      `select ${COLUMNS} from events where stream_id = any($1::text[]) order by stream_id, version`,
      [unique],
    );
    const decode = { trusted: options.trusted ?? false };
    for (const row of rows) streams.get(row.stream_id)?.push(this.decode(row, decode));
    return streams;
  }

  /**
   * The global log after `after`, in (txId, position) order. Only events of transactions older
   * than the oldest one still in flight are returned: an event committed late by a concurrent
   * transaction sorts after everything read before it, so a reader never skips one.
   */
  async readAll(
    after: LogPosition,
    options: { limit?: number; types?: readonly string[] } = {},
  ): Promise<RecordedEvent[]> {
    const rows = await this.readAllRaw(after, options);
    return rows.map((row) => this.decode(row));
  }

  /** Same as `readAll`, but rows as stored: the relay and the embedded bus forward them undecoded. */
  async readAllRaw(
    after: LogPosition,
    options: { limit?: number; types?: readonly string[]; dataOf?: readonly string[] } = {},
  ): Promise<EventRow[]> {
    const params: unknown[] = [after.txId, after.position, options.limit ?? 500];
    if (options.types) params.push(options.types);
    // `dataOf`: every row, but data and metadata only of these types (a consumer moving past the rest).
    if (options.dataOf) params.push(options.dataOf);
    const only = `$${params.length}::text[]`;
    const columns = options.dataOf
      ? COLUMNS.replace(
          'data, metadata',
          `case when type = any(${only}) then data end as data, case when type = any(${only}) then metadata end as metadata`,
        )
      : COLUMNS;
    return this.readLog<EventRow>(columns, params, options.types !== undefined);
  }

  /**
   * The global log as a projection reads it, in the same order and with the same gate as
   * `readAllRaw`: every event's place and type (its checkpoint moves past them all), the data of
   * `dataOf`'s types only, and none of the rest of the envelope (ids, stream, time, metadata),
   * which is most of what a row costs to parse and no projection reads.
   */
  async readProjected(
    after: LogPosition,
    options: { limit: number; dataOf: readonly string[] },
  ): Promise<ProjectedRow[]> {
    return this.readLog<ProjectedRow>(
      'position, tx_id, type, schema_version, case when type = any($4::text[]) then data end as data',
      [after.txId, after.position, options.limit, options.dataOf],
      false,
    );
  }

  /** `columns` of the log after ($1, $2), `limit` $3, below the oldest transaction in flight; `ofTypes`: of the types $4. */
  private async readLog<Row>(columns: string, params: unknown[], ofTypes: boolean): Promise<Row[]> {
    const { rows } = await this.db.query<Row>(
      `select ${columns} from events
       where (tx_id, position) > ($1::xid8, $2::bigint)
         and tx_id < pg_snapshot_xmin(pg_current_snapshot()) ${ofTypes ? 'and type = any($4::text[])' : ''}
       order by tx_id, position limit $3`,
      params,
    );
    return rows;
  }

  /** The last event a reader of the global log can see now (the start of the log when none). */
  async readableHead(): Promise<LogPosition> {
    const { rows } = await this.db.query<{ tx_id: string; position: number }>(
      // Ordered by the column, not by the text of the select list, which would put '999' after '1000'.
      `select tx_id::text, position from events where tx_id < pg_snapshot_xmin(pg_current_snapshot())
       order by events.tx_id desc, position desc limit 1`,
    );
    return rows[0] ? { txId: rows[0].tx_id, position: Number(rows[0].position) } : LOG_START;
  }

  /** How many readable events lie after `after` (optionally of some types): a reader's lag. */
  async countAfter(after: LogPosition, types?: readonly string[]): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      `select count(*)::int8 as n from events
       where (tx_id, position) > ($1::xid8, $2::bigint) ${types ? 'and type = any($3::text[])' : ''}`,
      types ? [after.txId, after.position, types] : [after.txId, after.position],
    );
    return rows[0]?.n ?? 0;
  }

  private encode(event: NewEvent): EncodedEvent {
    const data = this.catalog.validateForAppend(event.type, event.data);
    const id = event.id ?? uuidv7();
    const traceparent = event.metadata?.traceparent ?? currentTraceparent();
    return {
      id,
      type: event.type,
      schemaVersion: this.catalog.get(event.type).version,
      data,
      metadata: {
        correlationId: event.metadata?.correlationId ?? id,
        causationId: event.metadata?.causationId ?? null,
        actor: event.metadata?.actor ?? 'system',
        ...(traceparent ? { traceparent } : {}),
      },
      partitionKey: this.catalog.partitionKey(event.type, data),
      occurredAt: this.clock.now().toISOString(),
    };
  }

  /**
   * A row of `readAllRaw` as an event of its current schema (upcast). `trusted` skips validating
   * data already of the current version: it was validated at append (projections rebuilding a view).
   */
  decode(row: EventRow, options: { trusted?: boolean } = {}): RecordedEvent {
    const { data, schemaVersion } = this.catalog.decode(row.type, row.schema_version, row.data, options);
    return {
      id: row.event_id,
      type: row.type,
      schemaVersion,
      streamId: row.stream_id,
      version: row.version,
      position: row.position,
      txId: row.tx_id,
      occurredAt: row.occurred_at,
      partitionKey: row.partition_key,
      data,
      metadata: row.metadata,
    };
  }

  /** A row of `readProjected` as a projection's event, upcast as `decode` does. */
  decodeProjected(row: ProjectedRow, options: { trusted?: boolean } = {}): ProjectedEvent {
    const { data, schemaVersion } = this.catalog.decode(row.type, row.schema_version, row.data, options);
    return { type: row.type, schemaVersion, position: row.position, txId: row.tx_id, data };
  }
}

export type { EventRow, ProjectedRow };

type AppendedRow = { out_position: number; out_version: number; out_event_id: string };
type StreamRow = AppendedRow & { out_stream: string };

/** An event as the store's SQL functions take it. */
interface EncodedEvent {
  id: string;
  type: string;
  schemaVersion: number;
  data: unknown;
  metadata: RecordedEvent['metadata'];
  partitionKey: string;
  occurredAt: string;
}

/** An append as `append_events` and `append_streams` take it. */
interface EncodedAppend {
  stream: string;
  expected: string;
  events: EncodedEvent[];
}

/** Grouped appends: statements in flight at once, and the most appends in one. */
const GROUPED_APPENDS_IN_FLIGHT = 4;
const GROUPED_APPENDS_MAX = 250;

/**
 * A statement PostgreSQL refused (a SQLSTATE), but for a lost connection or a server out of
 * resources or shutting down (classes 08, 53, 57, 58): those concern every append of a group,
 * which would otherwise each wait out the pool's connection timeout again, one after the other.
 */
const statementRefused = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !/^(08|53|57|58)/.test(code);
};

const expectedOf = (expected: string): ExpectedVersion =>
  /^[0-9]+$/.test(expected) ? Number(expected) : (expected as ExpectedVersion);

function resultOf(streamId: string, rows: readonly AppendedRow[]): AppendResult {
  const last = rows[rows.length - 1]!;
  const events = rows.map((row) => ({ id: row.out_event_id, version: row.out_version, position: row.out_position }));
  return { streamId, version: last.out_version, position: last.out_position, events };
}

function resultsOf(streamIds: readonly string[], rows: readonly StreamRow[]): AppendResult[] {
  return streamIds.map((streamId) =>
    resultOf(
      streamId,
      rows.filter((row) => row.out_stream === streamId),
    ),
  );
}

/** The ConcurrencyError of a refused append among `appends` (append_events names the stream in its message). */
function concurrencyErrorOf(error: unknown, appends: StreamAppend[]): ConcurrencyError | undefined {
  const { code, detail, message } = error as { code?: string; detail?: string; message?: string };
  if (code !== 'TR409') return undefined;
  const refused = appends.find(({ streamId }) => message?.startsWith(`stream ${streamId}: `));
  return refused && new ConcurrencyError(refused.streamId, refused.expectedVersion ?? 'any', Number(detail));
}
