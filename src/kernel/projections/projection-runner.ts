import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../clock.ts';
import type { Database, Sql } from '../db/database.ts';
import { whileHolding } from '../db/try-lock.ts';
import type { Logger } from '../logger.ts';
import { projectionApplied, projectionFailures, projectionLagEvents, projectionLagSeconds } from '../metrics.ts';
import { AppendSignal } from '../store/append-signal.ts';
import { LOG_START, type LogPosition, type ProjectedEvent } from '../store/envelope.ts';
import type { EventStore, ProjectedRow } from '../store/event-store.ts';
import { ProjectionBehindError } from './errors.ts';
import { compareLogPositions } from './log-position.ts';
import type { ProjectionDefinition } from './projection.ts';
import { setShadowLogging } from './shadow-logging.ts';

export interface ProjectionRunnerDeps {
  /** The event store whose global log the projection reads. */
  store: EventStore;
  /** The view's read database, where its schema and checkpoint live. */
  db: Database;
  /** The live schema (see `viewSchemaName`). */
  schema: string;
  clock: Clock;
  log: Logger;
  /** Events per transaction while following the log (a rebuild uses larger batches). */
  batchSize: number;
  /**
   * The longest an idle projection sleeps through a move of the log that no append in this process
   * nor commit notification announced (the store's shared safety poll, `store.watch`).
   */
  pollMs?: number;
}

export interface RebuildProgress {
  startedAt: string;
  /** Events of the log the shadow copy has moved past. */
  processed: number;
  /** Events in the log when the rebuild started. */
  total: number;
  percent: number;
}

export interface ProjectionStatus {
  name: string;
  schema: string;
  version: number;
  state: 'starting' | 'running' | 'failing' | 'stopped';
  checkpoint: LogPosition;
  eventsApplied: number;
  lag: { events: number; seconds: number };
  lastError: string | null;
  rebuild: RebuildProgress | null;
  lastRebuild: { finishedAt: string; events: number; seconds: number } | null;
}

interface StateRow {
  tx_id: string;
  position: number;
  version: number;
  events_applied: number;
}

const REBUILD_BATCH = 5_000;

/** Rows of the log and, decoded, the events of them that the projection applies. */
interface Batch {
  rows: ProjectedRow[];
  events: ProjectedEvent[];
}

/**
 * Keeps one projection's view up to date with the event store's global log. Each batch of
 * events is applied in one transaction of the view database together with the checkpoint, so a
 * crash neither applies an event twice nor skips one; a process whose checkpoint moved under it
 * (another process running the same projection) notices it in that transaction and reloads.
 *
 * A rebuild fills a shadow schema from the start of the log while the live one keeps serving and
 * following, then swaps the two schemas in one transaction.
 */
export class ProjectionRunner {
  /** Fires when this process moved the projection's checkpoint (waiters wake at once). */
  private readonly advanced = new AppendSignal();
  private readonly shutdown = new AbortController();
  private at: LogPosition | undefined;
  private state: ProjectionStatus['state'] = 'starting';
  private lastError: string | null = null;
  private progress: RebuildProgress | null = null;
  private lastRebuild: ProjectionStatus['lastRebuild'] = null;
  private rebuilding: Promise<void> | undefined;
  /** Serializes the live loop's batches with a rebuild's final swap. */
  private exclusive: Promise<unknown> = Promise.resolve();
  private loop: Promise<void> | undefined;
  /** A live schema written by another version of the projection: it is not followed until rebuilt. */
  private outdated = false;
  private readonly types: ReadonlySet<string>;
  /** The store watch's count taken before the live read that found nothing, while the loop waits after it. */
  private idleSince: number | undefined;
  /** The live batch after `after`, read while the one before it is applied. */
  private readAhead: { after: LogPosition; batch: Promise<Batch> } | undefined;

  constructor(
    readonly definition: ProjectionDefinition,
    private readonly deps: ProjectionRunnerDeps,
  ) {
    this.types = new Set(definition.types);
  }

  get name(): string {
    return this.definition.name;
  }

  get schema(): string {
    return this.deps.schema;
  }

  /** Creates the live schema when missing; a schema of another version is rebuilt by `start`. */
  async setup(): Promise<void> {
    const { schema } = this.deps;
    // A live schema, once there, stays (a rebuild swaps another in, in one transaction): no lock to see it.
    const exists = async (sql: Sql) =>
      (await sql.query('select 1 from pg_namespace where nspname = $1', [schema])).rows.length > 0;
    if (!(await exists(this.deps.db)))
      await this.deps.db.transaction(async (tx) => {
        await tx.query('select pg_advisory_xact_lock(hashtext($1))', [`tributary.projection:${schema}`]);
        if (!(await exists(tx))) await this.createSchema(tx, schema);
      });
    const state = await this.loadState(schema);
    this.outdated = state.version !== this.definition.version;
    this.at = { txId: state.tx_id, position: state.position };
  }

  /** Follows the log in the background (after a rebuild first, when the view is of an older version). */
  start(): void {
    this.loop ??= this.follow();
  }

  async stop(): Promise<void> {
    this.shutdown.abort();
    await this.loop;
    await this.rebuilding?.catch(() => {});
    this.state = 'stopped';
  }

  /** Applies everything readable now; resolves to how many events it moved past. */
  async catchUp(): Promise<number> {
    let total = 0;
    for (;;) {
      const moved = await this.runExclusive(() => this.liveStep());
      total += moved;
      if (moved === 0) return total;
    }
  }

  /** The live checkpoint as stored (another process may have moved it). */
  async checkpoint(): Promise<LogPosition> {
    const state = await this.loadState(this.deps.schema);
    return { txId: state.tx_id, position: state.position };
  }

  /**
   * Read-your-writes: resolves once the live view has applied the event at store `position`, or
   * throws `ProjectionBehindError` after `timeoutMs`. Positions are compared in the order the log
   * is read, (txId, position), so the event's transaction id is looked up first.
   */
  async waitForPosition(position: number | undefined, timeoutMs: number): Promise<void> {
    if (position === undefined || position <= 0) return;
    const deadline = performance.now() + timeoutMs;
    let target: LogPosition | undefined;
    for (;;) {
      target ??= await this.lookUp(position);
      const at = await this.checkpoint();
      if (target && compareLogPositions(at, target) >= 0) return;
      const left = deadline - performance.now();
      if (left <= 0) throw new ProjectionBehindError(this.name, position, at.position);
      await this.advanced.wait(Math.min(left, 50));
    }
  }

  /**
   * Rebuilds the view from the start of the log into a shadow schema and swaps it in; the live
   * view keeps serving meanwhile. A second call during a rebuild joins it.
   */
  rebuild(): Promise<void> {
    if (this.rebuilding) return this.rebuilding;
    this.progress = { startedAt: this.deps.clock.now().toISOString(), processed: 0, total: 0, percent: 0 };
    this.rebuilding = this.rebuildIntoShadow().finally(() => {
      this.rebuilding = undefined;
      this.progress = null;
    });
    return this.rebuilding;
  }

  get rebuildInProgress(): boolean {
    return this.rebuilding !== undefined;
  }

  async status(): Promise<ProjectionStatus> {
    const state = await this.loadState(this.deps.schema);
    const checkpoint = { txId: state.tx_id, position: state.position };
    const lag = await this.lag(checkpoint);
    return {
      name: this.name,
      schema: this.deps.schema,
      version: state.version,
      state: this.state,
      checkpoint,
      eventsApplied: state.events_applied,
      lag,
      lastError: this.lastError,
      rebuild: this.progress && { ...this.progress },
      lastRebuild: this.lastRebuild,
    };
  }

  /**
   * True while the live loop waits, having applied everything this process has seen of the log
   * since: the lag is zero as far as this process knows (a commit nobody announced is seen within
   * the store's safety poll), without a count.
   */
  get caughtUp(): boolean {
    return this.idleSince === this.deps.store.watch.count;
  }

  /** Events not applied yet and the age of the oldest, also set as metrics. */
  async lag(checkpoint?: LogPosition): Promise<{ events: number; seconds: number }> {
    const at = checkpoint ?? (await this.checkpoint());
    const events = await this.deps.store.countAfter(at);
    const [oldest] = events > 0 ? await this.deps.store.readAllRaw(at, { limit: 1 }) : [];
    const seconds = oldest
      ? Math.max(0, (this.deps.clock.now().getTime() - new Date(oldest.occurred_at).getTime()) / 1000)
      : 0;
    projectionLagEvents.set({ projection: this.name }, events);
    projectionLagSeconds.set({ projection: this.name }, seconds);
    return { events, seconds };
  }

  private async follow(): Promise<void> {
    let failures = 0;
    const { watch } = this.deps.store;
    const maxMs = this.deps.pollMs ?? 30_000;
    while (!this.shutdown.signal.aborted) {
      try {
        if (this.outdated) {
          await this.bringUpToVersion();
          continue;
        }
        // Taken before the read: a move of the log after it ends the wait that follows.
        const since = watch.count;
        const moved = await this.runExclusive(() => this.liveStep());
        this.state = 'running';
        this.lastError = null;
        failures = 0;
        if (moved === 0) {
          this.idleSince = since;
          await watch.wait(since, { maxMs, signal: this.shutdown.signal }).finally(() => (this.idleSince = undefined));
        }
      } catch (error) {
        failures += 1;
        this.state = 'failing';
        this.lastError = (error as Error).message;
        projectionFailures.inc({ projection: this.name });
        this.deps.log.error(
          { err: error, projection: this.name, rebuilding: this.outdated },
          'projection failed; retrying',
        );
        this.at = undefined;
        await sleep(Math.min(30_000, 500 * 2 ** Math.min(failures, 6)), undefined, {
          signal: this.shutdown.signal,
        }).catch(() => {});
      }
    }
  }

  /**
   * The live view is of another version than this process's projection: an older one is rebuilt
   * (by this process, or by another one holding the rebuild lock, which this one waits for); a
   * newer one was built by a newer release and is left alone. A failed rebuild throws: `follow`
   * shows the error and retries with backoff.
   */
  private async bringUpToVersion(): Promise<void> {
    const { version } = await this.loadState(this.deps.schema);
    if (version === this.definition.version) {
      this.outdated = false;
      this.at = undefined;
      return;
    }
    if (version > this.definition.version) {
      this.state = 'failing';
      this.lastError = `the view is at version ${version}, newer than this process's ${this.definition.version}: not followed`;
      await sleep(5_000, undefined, { signal: this.shutdown.signal }).catch(() => {});
      return;
    }
    this.deps.log.info(
      { projection: this.name, from: version, to: this.definition.version },
      'projection version changed: rebuilding its view',
    );
    await this.rebuild();
  }

  /** One batch into the live schema; resolves to how many events the checkpoint moved past. */
  private async liveStep(): Promise<number> {
    this.at ??= await this.checkpoint();
    const { rows, events } = await this.takeLiveBatch(this.at);
    if (rows.length === 0) return 0;
    if (rows.length === this.deps.batchSize) {
      // A full batch: the log goes on. Its next batch is read while this one is written, and taken
      // by the next step only if it starts where this one's checkpoint ends (nothing else moved it).
      const last = rows[rows.length - 1]!;
      const after = { txId: last.tx_id, position: last.position };
      this.readAhead = { after, batch: this.readBatch(after, this.deps.batchSize) };
    }
    const next = await this.applyBatch(this.deps.schema, this.at, rows, events);
    if (!next) {
      // Another process moved the checkpoint, or swapped in a view of another version.
      const state = await this.loadState(this.deps.schema);
      this.at = { txId: state.tx_id, position: state.position };
      this.outdated = state.version !== this.definition.version;
      return 1;
    }
    this.at = next;
    this.advanced.notify();
    return rows.length;
  }

  /**
   * Applies `rows`, read after `from`, in one transaction with the checkpoint of `schema`. Resolves
   * to the new checkpoint, or undefined when the stored one is no longer `from` or the schema is of
   * another version (nothing written). The view's lock keeps out other processes' batches and swaps.
   */
  private async applyBatch(
    schema: string,
    from: LogPosition,
    rows: readonly ProjectedRow[],
    events = this.decodeBatch(rows),
  ): Promise<LogPosition | undefined> {
    const last = rows[rows.length - 1]!;
    const next = { txId: last.tx_id, position: last.position };
    const prefetched = events.length > 0 ? await this.definition.prefetch?.(events) : undefined;
    const applied = await this.deps.db.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock(hashtext($1))', [`tributary.projection:${schema}`]);
      const { rows: state } = await tx.query<StateRow>(
        `select tx_id::text, position, version from ${schema}.projection_state for update`,
      );
      if (state[0]?.tx_id !== from.txId || state[0].position !== from.position) return false;
      if (state[0].version !== this.definition.version) return false;
      if (events.length > 0) await this.definition.apply(events, { tx, schema, prefetched });
      await tx.query(
        `update ${schema}.projection_state set tx_id = $1::xid8, position = $2, events_applied = events_applied + $3, updated_at = $4`,
        [next.txId, next.position, rows.length, this.deps.clock.now()],
      );
      return true;
    });
    if (!applied) return undefined;
    projectionApplied.inc({ projection: this.name }, rows.length);
    return next;
  }

  /**
   * The live batch after `at`: the one read ahead when it was read after `at`, else read now. A
   * batch read earlier is still the log after `at` (fewer events at most: a reader of the log never
   * sees a transaction that sorts before what it has read commit later).
   */
  private takeLiveBatch(at: LogPosition): Promise<Batch> {
    const ahead = this.readAhead;
    this.readAhead = undefined;
    if (ahead && compareLogPositions(ahead.after, at) === 0) return ahead.batch;
    return this.readBatch(at, this.deps.batchSize);
  }

  /** The `limit` events after `after`, read and decoded. */
  private readBatch(after: LogPosition, limit: number): Promise<Batch> {
    const batch = this.deps.store
      .readProjected(after, { limit, dataOf: this.definition.types })
      .then((rows) => ({ rows, events: this.decodeBatch(rows) }));
    // A batch read ahead is not awaited when the one before it fails or moves elsewhere: keep its failure handled.
    batch.catch(() => undefined);
    return batch;
  }

  /** The events of `rows` that the projection applies, decoded. */
  private decodeBatch(rows: readonly ProjectedRow[]): ProjectedEvent[] {
    return rows
      .filter((row) => this.types.has(row.type))
      .map((row) => this.deps.store.decodeProjected(row, { trusted: true }));
  }

  /**
   * One rebuild of a view at a time across processes: a process finding one running elsewhere
   * waits for it to end instead of dropping the shadow it is filling.
   */
  private async rebuildIntoShadow(): Promise<void> {
    const lock = `tributary.projection-rebuild:${this.deps.schema}`;
    while (!(await whileHolding(this.deps.db, lock, () => this.rebuildHoldingLock()))) {
      this.deps.log.info({ projection: this.name }, 'projection rebuild running in another process; waiting for it');
      await sleep(1_000, undefined, { signal: this.shutdown.signal }).catch(() => {});
      if (this.shutdown.signal.aborted) throw new Error(`rebuild of ${this.name} interrupted by shutdown`);
      const { version } = await this.loadState(this.deps.schema);
      // Started for a new version: the other process's swap brought it (a manual rebuild runs again here).
      if (this.outdated && version === this.definition.version)
        return void ((this.outdated = false), (this.at = undefined));
    }
  }

  private async rebuildHoldingLock(): Promise<void> {
    const { db, store, schema } = this.deps;
    const shadow = `${schema}_rebuild`;
    const started = performance.now();
    await db.transaction(async (tx) => {
      await tx.exec(`drop schema if exists ${shadow} cascade`);
      await this.createSchema(tx, shadow, { shadow: true });
      await setShadowLogging(tx, shadow, false);
    });
    const total = await store.countAfter(LOG_START);
    Object.assign(this.progress!, { total, percent: total === 0 ? 100 : 0 });
    const moveOn = (count: number) => {
      const progress = this.progress!;
      progress.processed += count;
      progress.total = Math.max(progress.total, progress.processed);
      progress.percent = Math.floor((progress.processed / progress.total) * 1000) / 10;
    };

    // Read and decode the next batch while the current one is applied (this thread is idle while
    // the database writes it).
    let at: LogPosition = LOG_START;
    const dataOf = this.definition.types;
    const read = (after: LogPosition) => this.readBatch(after, REBUILD_BATCH);
    let pending = read(at);
    for (;;) {
      if (this.shutdown.signal.aborted) throw new Error(`rebuild of ${this.name} interrupted by shutdown`);
      const { rows, events } = await pending;
      if (rows.length < REBUILD_BATCH) {
        if (rows.length > 0) {
          at = await this.applyToShadow(shadow, at, rows, events);
          moveOn(rows.length);
        }
        break;
      }
      const last = rows[rows.length - 1]!;
      pending = read({ txId: last.tx_id, position: last.position });
      at = await this.applyToShadow(shadow, at, rows, events);
      moveOn(rows.length);
    }
    await db.transaction((tx) => setShadowLogging(tx, shadow, true));
    if (this.definition.indexes) await db.exec(this.definition.indexes(shadow));

    // The shadow is near the head: pause the live loop, finish, swap.
    await this.runExclusive(async () => {
      for (;;) {
        const rows = await store.readProjected(at, { limit: REBUILD_BATCH, dataOf });
        if (rows.length === 0) break;
        at = await this.applyToShadow(shadow, at, rows);
        moveOn(rows.length);
      }
      const retired = `${schema}_retired`;
      await db.transaction(async (tx) => {
        await tx.query('select pg_advisory_xact_lock(hashtext($1))', [`tributary.projection:${schema}`]);
        const { rows: state } = await tx.query<StateRow>(
          `select tx_id::text, position from ${shadow}.projection_state`,
        );
        if (state[0]?.tx_id !== at.txId || state[0].position !== at.position) throw this.shadowLost();
        await tx.exec(
          `drop schema if exists ${retired} cascade; alter schema ${schema} rename to ${retired}; alter schema ${shadow} rename to ${schema}`,
        );
      });
      this.at = at;
      this.outdated = false;
      this.advanced.notify();
      await db.exec(`drop schema if exists ${retired} cascade`);
    });
    const seconds = (performance.now() - started) / 1000;
    this.lastRebuild = {
      finishedAt: this.deps.clock.now().toISOString(),
      events: this.progress?.processed ?? 0,
      seconds: Math.round(seconds * 10) / 10,
    };
    this.deps.log.info({ projection: this.name, ...this.lastRebuild }, 'projection rebuilt');
  }

  /**
   * One batch into the shadow, which only this rebuild writes (it holds the rebuild lock): a
   * checkpoint other than `from` means its unlogged tables were emptied by a database crash.
   */
  private async applyToShadow(
    shadow: string,
    from: LogPosition,
    rows: readonly ProjectedRow[],
    events?: ProjectedEvent[],
  ): Promise<LogPosition> {
    const next = await this.applyBatch(shadow, from, rows, events);
    if (!next) throw this.shadowLost();
    return next;
  }

  private shadowLost(): Error {
    return new Error(
      `rebuild of ${this.name}: its shadow's checkpoint moved (emptied by a database restart?); start again`,
    );
  }

  /** The schema with its tables; `shadow`: without the secondary indexes, which the rebuild adds once filled. */
  private async createSchema(
    tx: Pick<Database, 'exec' | 'query'>,
    schema: string,
    { shadow = false } = {},
  ): Promise<void> {
    await tx.exec(`create schema ${schema}`);
    await tx.exec(this.definition.tables(schema));
    if (!shadow && this.definition.indexes) await tx.exec(this.definition.indexes(schema));
    await tx.exec(`
      create table ${schema}.projection_state (
        singleton boolean primary key default true check (singleton),
        name text not null,
        version integer not null,
        tx_id xid8 not null,
        position bigint not null,
        events_applied bigint not null default 0,
        updated_at timestamptz not null
      )`);
    await tx.query(
      `insert into ${schema}.projection_state (name, version, tx_id, position, updated_at) values ($1, $2, $3::xid8, $4, $5)`,
      [this.name, this.definition.version, LOG_START.txId, LOG_START.position, this.deps.clock.now()],
    );
  }

  private async loadState(schema: string): Promise<StateRow> {
    const { rows } = await this.deps.db.query<StateRow>(
      `select tx_id::text, position, version, events_applied from ${schema}.projection_state`,
    );
    if (!rows[0]) throw new Error(`projection ${this.name}: ${schema}.projection_state has no row`);
    return rows[0];
  }

  private async lookUp(position: number): Promise<LogPosition | undefined> {
    const { rows } = await this.deps.store.db.query<{ tx_id: string }>(
      'select tx_id::text from events where position = $1',
      [position],
    );
    return rows[0] && { txId: rows[0].tx_id, position };
  }

  private runExclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.exclusive.then(work, work);
    this.exclusive = run.catch(() => {});
    return run;
  }
}
