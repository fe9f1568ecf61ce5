import { setTimeout as sleep } from 'node:timers/promises';
import { Counter, Gauge } from 'prom-client';
import type { Clock } from '../clock.ts';
import { backoffDelay, type RetryPolicy } from '../consumers/retry-policy.ts';
import type { Database, Sql } from '../db/database.ts';
import { GUARD_FAILED } from '../db/guard.ts';
import { lastStatement, lazyTransaction } from '../db/lazy-transaction.ts';
import { isUniqueViolation } from '../db/unique-violation.ts';
import type { Logger } from '../logger.ts';
import { registry } from '../metrics.ts';
import { startDueLoop } from '../due-loop.ts';
import type { AppendSignal } from '../store/append-signal.ts';
import { DeferredWrites } from '../store/deferred-writes.ts';
import { GuardError } from '../store/errors.ts';
import type { EventStore, StreamAppend } from '../store/event-store.ts';
import { continueTrace, currentTraceparent, withTrace } from '../tracing.ts';
import { lockSagaStatus } from './saga-status.ts';
import {
  isFinished,
  type SagaDefinition,
  type SagaRecord,
  type SagaStatus,
  type SagaStep,
  type SagaTransition,
  type StepFailure,
  type StepOutcome,
  type StepContext,
  type StepRecord,
  type StepResult,
} from './saga.ts';

export const sagaOutcomes = new Counter({
  name: 'tributary_saga_outcomes_total',
  help: 'Sagas finished, by type and outcome',
  labelNames: ['type', 'status'],
  registers: [registry],
});
export const sagasParked = new Gauge({
  name: 'tributary_saga_compensation_failed',
  help: 'Sagas parked as compensation_failed, read from the store (each is retried on a growing backoff)',
  labelNames: ['type'],
  registers: [registry],
});

/** The engine's statements at each step (creation, step starts, checkpoints, heartbeats): parsed and planned once per connection. */
const PREPARED = { prepared: true } as const;

/** A parked saga is tried again after `parkedRetryMs`, then twice as long each time, up to every 6 hours, without end. */
const parkedRetrySql = (param: string) =>
  `clock_timestamp() + least(interval '6 hours', ${param} * interval '1 millisecond' * power(2, least(attempts, 20)))`;

/** A parked saga resumes compensating, or running when a forward step parked it (it has no failure). */
const RESUMED_STATUS = `case when failure is null then 'running' else 'compensating' end`;

/** Retrying a saga that is not parked: nothing to retry (409 at HTTP). */
export class SagaNotParkedError extends Error {
  override readonly name = 'SagaNotParkedError';
  readonly code = 'workflow_not_parked';
}

export interface SagaFilter {
  status?: SagaStatus;
  type?: string;
  limit: number;
  /** The last id of the previous page (newest first). */
  cursor?: string;
}

/** This process no longer holds the saga's lease: another one took it over. */
class LeaseLostError extends Error {}

export interface SagaOrchestratorOptions {
  db: Database;
  /** Where a saga that keeps a history (`SagaDefinition.record`) appends it. */
  store?: EventStore;
  clock: Clock;
  log: Logger;
  /** This process's name in leases. */
  owner: string;
  /** How long a lease lasts without a heartbeat: a dead process's sagas are resumed after it. */
  leaseMs?: number;
  defaultRetry?: RetryPolicy;
  /** Compensations are retried this way before the saga is parked as `compensation_failed`. */
  compensationRetry?: RetryPolicy;
  /** The first automatic retry of a parked saga comes this long after it parked (2 s). */
  parkedRetryMs?: number;
  /**
   * Called at each step boundary as `step:phase:point`, with the saga's type: crash-injection
   * tests kill the process there (SAGA_CRASH_AT) to prove every registration and renewal still ends.
   */
  onBoundary?: (boundary: string, type: string) => void;
}

/** Before a step's effect; after an external effect, before its checkpoint; after the checkpoint (a local step's effect commits with it). */
export type SagaBoundary = 'before-effect' | 'after-effect' | 'after-checkpoint';

interface SagaRow {
  id: string;
  type: string;
  status: SagaStatus;
  state: Record<string, unknown>;
  failure: StepFailure | null;
  created_at: Date;
  updated_at: Date;
  attempts: number;
  next_attempt_at: Date | null;
  last_error: string | null;
  position: string | number | null;
}

interface StepRow {
  saga_id: string;
  step: string;
  phase: 'run' | 'compensate';
  status: StepRecord['status'];
  attempts: number;
  started_at: Date | null;
  finished_at: Date | null;
  error: string | null;
}

const stepOf = (s: StepRow): StepRecord => ({
  step: s.step,
  phase: s.phase,
  status: s.status,
  attempts: s.attempts,
  startedAt: s.started_at,
  finishedAt: s.finished_at,
  error: s.error,
});

const recordOf = <State>(row: SagaRow, steps: StepRecord[]): SagaRecord<State> => ({
  id: row.id,
  type: row.type,
  status: row.status,
  state: row.state as State,
  failure: row.failure,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  attempts: row.attempts,
  nextAttemptAt: row.next_attempt_at,
  lastError: row.last_error,
  position: row.position === null ? null : Number(row.position),
  steps,
});

/** A plain timer, cleared when the work settles: an aborted `sleep` builds a DOMException at every step. */
const withTimeout = async <T>(work: Promise<T>, timeoutMs: number | undefined, what: string): Promise<T> => {
  if (!timeoutMs) return work;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
};

/**
 * Runs sagas declared as data: each step's outcome is stored durably before the next one runs
 * (an external step's outcome followed by a local step commits with that step's effect, in its
 * statement: a crash before it runs the external step again, with the same idempotency key),
 * a failed step compensates the completed ones in reverse, and sagas left unfinished by a dead
 * process are taken over (lease + heartbeat, `FOR UPDATE SKIP LOCKED`) and resumed.
 */
export class SagaOrchestrator {
  private readonly definitions = new Map<string, SagaDefinition<never>>();
  private readonly running = new Map<string, Promise<SagaRecord>>();
  /** Sagas created here whose history has not been written yet: it is known to be empty. */
  private readonly fresh = new Set<string>();
  /** Sagas started here whose first (local) step's checkpoint is to store them. */
  private readonly unstored = new Map<string, Creation>();
  private stopRecovery: (() => Promise<void>) | undefined;
  /** Stopping: a saga another process holds is no longer waited for (nor taken over) here. */
  private stopping = false;
  private readonly leaseMs: number;

  constructor(private readonly options: SagaOrchestratorOptions) {
    this.leaseMs = options.leaseMs ?? 5_000;
  }

  register<State>(definition: SagaDefinition<State>): void {
    this.definitions.set(definition.type, definition as SagaDefinition<never>);
  }

  /**
   * Starts saga `id` (a retried start with the same id starts nothing new) and resolves when it
   * has finished, here or in the process that holds it.
   */
  async start<State extends object>(
    type: string,
    id: string,
    input: State,
    options: StartOptions = {},
  ): Promise<SagaRecord<State>> {
    const creation = this.creationOf(type, id, input, options.writes);
    const created =
      options.storedByFirstStep && !creation.start ? this.storeLater(creation) : await this.insert(creation);
    return this.drive(id, created) as Promise<SagaRecord<State>>;
  }

  /** Starts saga `id` like `start`, but resolves once it is stored: it runs on in the background. */
  async launch<State extends object>(type: string, id: string, input: State): Promise<void> {
    const created = await this.insert(this.creationOf(type, id, input));
    void this.drive(id, created).catch((error: unknown) =>
      this.options.log.error({ sagaId: id, err: error }, 'saga: run failed; recovery resumes it'),
    );
  }

  /**
   * A new saga as its creation stores it. When its first step is external, that step's first
   * attempt starts (with its intent) in the creation's statement: the saga's first step costs no
   * statement of its own. `writes` (no appends) are made with the creation, only when the saga is
   * new (e.g. the key its sealed state needs); one that fails (a unique key taken) fails the
   * creation, with its error.
   */
  private creationOf(type: string, id: string, input: object, writes = new DeferredWrites()): Creation {
    if (writes.appends.length) throw new RangeError("a saga's creation makes writes, not appends");
    const now = this.options.clock.now();
    const definition = this.definitions.get(type) as SagaDefinition<Record<string, unknown>> | undefined;
    const state = input as Record<string, unknown>;
    const first = definition?.steps.find((step) => !step.skip?.(state));
    const start = first && !first.local ? first : undefined;
    if (start) start.intent?.(this.contextOf(id, state, start, writes), writes);
    return { id, type, state, writes, now, traceparent: currentTraceparent() ?? null, start };
  }

  /** Stores a new saga, its lease ours; the record when it was created here (undefined: it existed). */
  private async insert(creation: Creation): Promise<SagaRecord | undefined> {
    const { id, type, state, writes, now, traceparent, start } = creation;
    const params: unknown[] = [id, type, JSON.stringify(state), this.options.owner, this.leaseMs, now];
    params.push(traceparent, start?.name ?? null);
    const { ctes, params: more } = writes.ctes(params.length);
    // The writes are no CTEs of `saga`'s: a saga that existed fails the statement whole (guard).
    const { rows } = await this.options.db
      .query<{ n: number }>(
        `with saga as (
           insert into sagas (id, type, status, state, lease_owner, lease_until, created_at, updated_at, traceparent)
           values ($1, $2, 'running', $3, $4, clock_timestamp() + $5 * interval '1 millisecond', $6, $6, $7)
           on conflict (id) do nothing
           returning id
         ), ${[...ctes, ''].join(', ')}started as (
           insert into saga_steps (saga_id, step, phase, status, attempts, started_at)
           select id, $8, 'run', 'started', 1, $6 from saga where $8::text is not null
         ) select ${ctes.length ? 'require_guard((select count(*) from saga))' : '(select count(*) from saga)'} as n`,
        [...params, ...more],
        PREPARED,
      )
      .catch((error: unknown) => {
        if ((error as { code?: string }).code === GUARD_FAILED) return { rows: [{ n: 0 }] };
        throw error;
      });
    if (Number(rows[0]!.n) !== 1) return undefined;
    return this.createdRecord(creation);
  }

  /**
   * A new saga whose first step is local, stored by that step's checkpoint (with the creation's
   * writes): until then nothing of it is durable, so a crash leaves nothing to resume. A first
   * attempt that fails stores it as `insert` does before it retries.
   */
  private storeLater(creation: Creation): SagaRecord {
    this.unstored.set(creation.id, creation);
    return this.createdRecord(creation);
  }

  /** The creation's error (e.g. a key claimed meanwhile) is the start's: thrown. */
  private async storeNow(id: string): Promise<void> {
    const creation = this.unstored.get(id)!;
    this.unstored.delete(id);
    if (!(await this.insert(creation))) throw new Error(`saga ${id} existed before its creation was stored`);
  }

  /** A saga just created here is known whole, its lease ours: it runs without reading it back. */
  private createdRecord({ id, type, state, now, start }: Creation): SagaRecord {
    this.fresh.add(id);
    const created: SagaRecord = {
      id,
      type,
      status: 'running',
      state,
      failure: null,
      steps: [],
      createdAt: now,
      updatedAt: now,
      attempts: 0,
      nextAttemptAt: null,
      lastError: null,
      position: null,
    };
    return start ? withStep(created, start.name, 'run', started, now) : created;
  }

  /** What a step's first attempt in this process is given. */
  private contextOf(
    sagaId: string,
    state: Record<string, unknown>,
    step: SagaStep<Record<string, unknown>>,
    writes: DeferredWrites,
  ): StepContext<Record<string, unknown>> {
    return { sagaId, state, idempotencyKey: `${sagaId}:${step.name}`, attempt: 1, writes };
  }

  async get<State = Record<string, unknown>>(id: string): Promise<SagaRecord<State> | null> {
    const { rows } = await this.options.db.query<SagaRow>('select * from sagas where id = $1', [id]);
    const row = rows[0];
    if (!row) return null;
    const steps = await this.options.db.query<StepRow>('select * from saga_steps where saga_id = $1 order by seq', [
      id,
    ]);
    return recordOf<State>(row, steps.rows.map(stepOf));
  }

  /** Sagas newest first, with their steps: a page of `limit` and the cursor of the next one. */
  async list(filter: SagaFilter): Promise<{ items: SagaRecord[]; nextCursor: string | null }> {
    const { db } = this.options;
    const { rows } = await db.query<SagaRow>(
      `select * from sagas
       where ($1::text is null or status = $1) and ($2::text is null or type = $2) and ($3::text is null or id < $3)
       order by id desc limit $4`,
      [filter.status ?? null, filter.type ?? null, filter.cursor ?? null, filter.limit + 1],
    );
    const page = rows.slice(0, filter.limit);
    const steps = page.length
      ? (
          await db.query<StepRow>('select * from saga_steps where saga_id = any($1::text[]) order by seq', [
            page.map((row) => row.id),
          ])
        ).rows
      : [];
    const items = page.map((row) =>
      recordOf<Record<string, unknown>>(row, steps.filter((step) => step.saga_id === row.id).map(stepOf)),
    );
    return { items, nextCursor: rows.length > filter.limit ? page[page.length - 1]!.id : null };
  }

  /**
   * Tries a parked saga's compensation again now (an operator's retry). `record` runs in the
   * transaction that takes the saga out of its parking (the retry is recorded with it, or not at
   * all). Throws SagaNotParkedError when it is not parked.
   */
  async retry(id: string, record?: (tx: Sql, saga: SagaRecord) => Promise<void>): Promise<SagaStatus> {
    const status = await this.options.db.transaction(async (tx) => {
      const { rows } = await tx.query<SagaRow>(
        `update sagas set status = ${RESUMED_STATUS}, lease_owner = $2, lease_until = clock_timestamp() + $3 * interval '1 millisecond', next_attempt_at = null
         where id = $1 and status = 'compensation_failed' returning *`,
        [id, this.options.owner, this.leaseMs],
      );
      if (!rows[0]) throw new SagaNotParkedError(`workflow ${id} is not parked: there is nothing to retry`);
      await record?.(tx, recordOf({ ...rows[0], status: 'compensation_failed' }, []));
      return rows[0].status;
    });
    void this.drive(id).catch(() => {});
    return status;
  }

  /** The parked gauge, from the store: it survives restarts and falls when parked sagas finish. */
  async sampleParked(): Promise<void> {
    const { rows } = await this.options.db.query<{ type: string; n: string }>(
      `select type, count(*) as n from sagas where status = 'compensation_failed' group by type`,
    );
    sagasParked.reset();
    for (const type of this.definitions.keys())
      sagasParked.set({ type }, Number(rows.find((row) => row.type === type)?.n ?? 0));
  }

  /** Resolves when saga `id` has finished, whoever runs it (polls the store). */
  async waitFor<State = Record<string, unknown>>(id: string, timeoutMs: number): Promise<SagaRecord<State> | null> {
    const deadline = performance.now() + timeoutMs; // elapsed wait, not business time
    for (;;) {
      const record = await this.get<State>(id);
      if (!record || isFinished(record.status) || performance.now() >= deadline) return record;
      await sleep(20);
    }
  }

  /**
   * Takes over sagas whose lease expired (their process died) and resumes them, and retries the
   * parked ones that are due: when the next lease lapses or parked saga falls due, when an append
   * wakes it (another process's saga moved on), and at least every `maxSleepMs`.
   */
  startRecovery(appended: AppendSignal, maxSleepMs: number): void {
    this.stopRecovery ??= startDueLoop({
      name: 'saga recovery',
      run: async () => {
        await Promise.all([this.recoverOnce(), this.sampleParked()]);
        return this.msUntilNextDue();
      },
      appended,
      minGapMs: Math.min(1_000, maxSleepMs),
      maxSleepMs,
      log: this.options.log,
    });
  }

  /** Milliseconds until the next lease lapses or parked saga is due (null: none). */
  private async msUntilNextDue(): Promise<number | null> {
    const { rows } = await this.options.db.query<{ ms: string | number | null }>(
      `select extract(epoch from least(
         (select min(lease_until) from sagas where status in ('running', 'compensating')),
         (select min(next_attempt_at) from sagas where status = 'compensation_failed')
       ) - clock_timestamp()) * 1000 as ms`,
    );
    const ms = rows[0]?.ms;
    return ms === null || ms === undefined ? null : Math.max(0, Number(ms));
  }

  /**
   * Takes over expired sagas once, and parked ones whose next attempt is due (their compensation
   * runs again); returns their ids (their runs go on in the background).
   */
  async recoverOnce(): Promise<string[]> {
    const { rows } = await this.options.db.query<{ id: string }>(
      `with expired as (
         select id from sagas
         where status in ('running', 'compensating') and lease_until < clock_timestamp()
         order by lease_until limit 10
         for update skip locked
       ), parked as (
         select id from sagas
         where status = 'compensation_failed' and next_attempt_at <= clock_timestamp()
         order by next_attempt_at limit 10
         for update skip locked
       )
       update sagas s set lease_owner = $1, lease_until = clock_timestamp() + $2 * interval '1 millisecond',
         status = case when s.status = 'compensation_failed' then ${RESUMED_STATUS} else s.status end, next_attempt_at = null
       from (select id from expired union all select id from parked) due where s.id = due.id
       returning s.id`,
      [this.options.owner, this.leaseMs],
    );
    for (const { id } of rows) {
      this.options.log.warn({ sagaId: id }, 'saga: taking over from a process that stopped');
      void this.drive(id).catch(() => {});
    }
    return rows.map((row) => row.id);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.stopRecovery?.();
    this.stopRecovery = undefined;
    await Promise.allSettled([...this.running.values()]);
  }

  private drive(id: string, created?: SagaRecord): Promise<SagaRecord> {
    let run = this.running.get(id);
    if (!run) {
      run = this.driveOwned(id, created).finally(() => this.running.delete(id));
      this.running.set(id, run);
    }
    return run;
  }

  private async driveOwned(id: string, created?: SagaRecord): Promise<SagaRecord> {
    const { db } = this.options;
    // Only the lease holder runs a saga; anyone else waits for its outcome.
    const { rows } = created
      ? { rows: [{ traceparent: null }] }
      : await db.query<{ traceparent: string | null }>(
          `update sagas set lease_owner = $2, lease_until = clock_timestamp() + $3 * interval '1 millisecond'
           where id = $1 and status in ('running', 'compensating') and (lease_owner = $2 or lease_until < clock_timestamp())
           returning traceparent`,
          [id, this.options.owner, this.leaseMs],
        );
    if (!rows[0]) return this.outcomeElsewhere(id);
    // Resumed outside the request that started it (recovery, a retry): in a span of the saga's own trace.
    const started = rows[0].traceparent;
    const trace = currentTraceparent() ?? (started ? continueTrace(started) : undefined);
    const heartbeat = setInterval(
      () =>
        void db
          .query(
            `update sagas set lease_until = clock_timestamp() + $3 * interval '1 millisecond' where id = $1 and lease_owner = $2`,
            [id, this.options.owner, this.leaseMs],
            PREPARED,
          )
          .catch(() => {}),
      Math.max(50, Math.floor(this.leaseMs / 3)),
    );
    try {
      return await (trace ? withTrace(trace, () => this.advance(id, created)) : this.advance(id, created));
    } catch (error) {
      if (!(error instanceof LeaseLostError)) throw error;
      this.options.log.warn({ sagaId: id }, 'saga: lease lost; another process continues it');
      return this.outcomeElsewhere(id);
    } finally {
      clearInterval(heartbeat);
      this.fresh.delete(id);
      this.unstored.delete(id);
    }
  }

  /**
   * The outcome of a saga another process holds; once that process's lease lapses (it died), the
   * saga is taken over here. Waiting passively would keep recovery in this process from running
   * it: its takeover joins this very drive.
   */
  private async outcomeElsewhere(id: string): Promise<SagaRecord> {
    const record = await this.waitFor(id, this.leaseMs + 1_000);
    return !record || isFinished(record.status) || this.stopping ? record! : this.driveOwned(id);
  }

  /**
   * Runs the saga to its end from what the store holds. The record is read once: while this
   * process holds the lease nobody else writes it, so it is kept in memory from there on.
   */
  private async advance(id: string, created?: SagaRecord): Promise<SagaRecord> {
    let record = created ?? (await this.get(id))!;
    const definition = this.definitions.get(record.type) as SagaDefinition<Record<string, unknown>> | undefined;
    if (!definition) throw new Error(`no saga definition for ${record.type}`);
    const done = (name: string, phase: 'run' | 'compensate') =>
      record.steps.some((s) => s.step === name && s.phase === phase && s.status === 'completed');

    if (record.status === 'running') {
      // The external step whose first attempt was started by the statement before (the saga's creation, a checkpoint).
      let startedStep = created?.steps.find((s) => s.status === 'started')?.step;
      // An external step's checkpoint that rides with the next (local) step's.
      let carried: Carried | undefined;
      for (const step of definition.steps) {
        if (done(step.name, 'run') || step.skip?.(record.state)) continue;
        const retry = step.retry ??
          this.options.defaultRetry ?? { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 2_000 };
        let result;
        ({
          record,
          result,
          startedNext: startedStep,
          carried,
        } = await this.attempt(definition, record, step, 'run', retry, startedStep === step.name, carried));
        if ('fail' in result && result.fail.code === 'step_failed' && step.whenExhausted === 'park')
          return this.park(definition, record, step.name, 'run', result.fail.message);
        if ('fail' in result) {
          const { fail } = result;
          const change = { status: 'compensating' as const, failure: fail };
          const { outcome } = result;
          const failed: SagaTransition = { kind: 'failed', step: step.name, failure: fail };
          record = await this.withHistory(definition, failed, record, async (tx, history) => {
            const writes = new DeferredWrites();
            await outcome?.(tx, true, writes);
            return this.finishStep(record, step.name, 'run', 'failed', fail.message, change, { tx, history, writes });
          });
          break;
        }
      }
      if (carried) record = await this.writeAlone(record, carried);
      // Its last step's checkpoint completed it; a saga left running with every step done (by an older version) completes here.
      if (record.status === 'running') {
        await this.setStatus(id, 'completed');
        record = { ...record, status: 'completed' };
      }
      if (record.status === 'completed') {
        sagaOutcomes.inc({ type: record.type, status: 'completed' });
        return record;
      }
    }

    // Compensate, newest first, every step that completed or may have had an effect (failed after retries).
    const touched = (name: string) =>
      record.steps.some(
        (s) =>
          s.step === name &&
          s.phase === 'run' &&
          (s.status === 'completed' || (s.status === 'failed' && record.failure?.code === 'step_failed')),
      );
    for (const step of [...definition.steps].reverse()) {
      if (!step.compensate || !touched(step.name) || done(step.name, 'compensate')) continue;
      const retry = this.options.compensationRetry ?? { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 5_000 };
      let result;
      ({ record, result } = await this.attempt(definition, record, step, 'compensate', retry));
      if ('fail' in result) return this.park(definition, record, step.name, 'compensate', result.fail.message);
    }
    record = await this.withHistory(definition, { kind: 'compensated' }, record, async (tx, history) => {
      if (history)
        await this.store.append(history.streamId, history.events, { expectedVersion: history.expectedVersion, tx });
      await this.setStatus(id, 'compensated', tx);
      return { ...record, status: 'compensated' as const };
    });
    sagaOutcomes.inc({ type: record.type, status: 'compensated' });
    return record;
  }

  /**
   * A compensation (or a forward step that parks when its retries run out) kept failing: parked,
   * and due again later, in one transaction (never parked without its next attempt).
   */
  private async park(
    definition: SagaDefinition<Record<string, unknown>>,
    record: SagaRecord,
    step: string,
    phase: 'run' | 'compensate',
    error: string,
  ): Promise<SagaRecord> {
    const parked = await this.withHistory(definition, { kind: 'parked', error }, record, async (tx, history) => {
      const change = { status: 'compensation_failed' as const };
      const next = await this.finishStep(record, step, phase, 'failed', error, change, {
        tx,
        history,
        more: true,
      });
      const { rows } = await tx.query<{ next_attempt_at: Date; attempts: number }>(
        `update sagas set attempts = attempts + 1, next_attempt_at = ${parkedRetrySql('$3')}, last_error = $2, lease_owner = null, lease_until = null
         where id = $1 returning next_attempt_at, attempts`,
        [record.id, error, this.options.parkedRetryMs ?? 2_000],
      );
      return { ...next, attempts: rows[0]!.attempts, nextAttemptAt: rows[0]!.next_attempt_at, lastError: error };
    });
    sagaOutcomes.inc({ type: record.type, status: 'compensation_failed' });
    this.options.log.error(
      { sagaId: record.id, step, error, retryAt: parked.nextAttemptAt },
      'saga: a step keeps failing; parked, retried later',
    );
    return parked;
  }

  /**
   * Writes a transition with `write` and the saga's history of it (when it keeps one) in one
   * transaction: `tx`, or one of its own (begun by its first statement: a `write` of one statement
   * runs alone). The history's append is handed to `write`, which makes it in its own statement.
   */
  private async withHistory(
    definition: SagaDefinition<Record<string, unknown>>,
    transition: SagaTransition,
    after: SagaRecord,
    write: (tx: Sql, history?: StreamAppend) => Promise<SagaRecord>,
    tx?: Sql,
  ): Promise<SagaRecord> {
    if (!definition.record) return tx ? write(tx) : lazyTransaction(this.options.db, write);
    const record = definition.record;
    const run = async (tx: Sql) => {
      let written: SagaRecord | undefined;
      const append = async (history: StreamAppend) => {
        if (written)
          await this.store.append(history.streamId, history.events, { expectedVersion: history.expectedVersion, tx });
        else written = await write(tx, history);
      };
      const fresh = this.fresh.delete(after.id);
      await record(tx, transition, { sagaId: after.id, state: after.state, fresh, append });
      return written ?? write(tx);
    };
    return tx ? run(tx) : lazyTransaction(this.options.db, run);
  }

  private get store(): EventStore {
    if (!this.options.store) throw new Error('a saga with a history needs the orchestrator to have the event store');
    return this.options.store;
  }

  /** Runs one phase of a step with retries; a thrown error that outlasts them is a failure. */
  private async attempt(
    definition: SagaDefinition<Record<string, unknown>>,
    initial: SagaRecord,
    step: SagaStep<Record<string, unknown>>,
    phase: 'run' | 'compensate',
    retry: RetryPolicy,
    /** Its first attempt was started already (with its intent), by the statement before. */
    startedAlready = false,
    /** The step before's checkpoint, written with this (local) step's, or alone first when it does not go on. */
    carried?: Carried,
  ): Promise<{
    record: SagaRecord;
    result: StepResult<Record<string, unknown>>;
    startedNext?: string;
    carried?: Carried;
  }> {
    const { db, log } = this.options;
    let record = initial;
    // Only a local step's first statement can take the step before's checkpoint along.
    if (carried && !(step.local && phase === 'run'))
      [record, carried] = [await this.writeAlone(initial, carried), undefined];
    const base = { sagaId: record.id, state: record.state, idempotencyKey: `${record.id}:${step.name}` };
    // The step that runs after this one, with its outcome `ok` (none: the saga is done, or compensating).
    const later = definition.steps.slice(definition.steps.indexOf(step) + 1);
    const nextOf = (ok: Partial<Record<string, unknown>>) =>
      phase === 'run' ? later.find((next) => !next.skip?.({ ...record.state, ...ok })) : undefined;
    // The last step to run completes the saga (and releases its lease) in its checkpoint's statement.
    const last = (ok: Partial<Record<string, unknown>>) => phase === 'run' && !nextOf(ok);
    // The next step, when external, starts its first attempt (with its intent) in this one's checkpoint.
    let startedNext: string | undefined;
    const completed = (ok: Partial<Record<string, unknown>>, at: Checkpoint) => {
      const state = { ...record.state, ...ok };
      const next = nextOf(ok);
      const done = (name: string) =>
        record.steps.some((s) => s.step === name && s.phase === 'run' && s.status === 'completed');
      let checkpoint = at;
      if (next && !next.local && !done(next.name)) {
        const writes = at.writes ?? new DeferredWrites();
        next.intent?.(this.contextOf(record.id, state, next, writes), writes);
        checkpoint = { ...at, writes, next: next.name };
        startedNext = next.name;
      }
      return this.finishStep(
        record,
        step.name,
        phase,
        'completed',
        null,
        { state: ok, ...(last(ok) && { status: 'completed' }) },
        checkpoint,
      );
    };
    const after = (ok: Partial<Record<string, unknown>>): SagaRecord => ({
      ...record,
      state: { ...record.state, ...ok },
    });
    const transition: SagaTransition = { kind: 'step-completed', step: step.name };
    for (let attempt = 1; ; attempt++) {
      const context = { ...base, attempt, writes: new DeferredWrites() };
      startedNext = undefined;
      try {
        // A local step's start is kept in memory only: its effect and its checkpoint commit together, or neither.
        if (step.local) record = withStep(record, step.name, phase, started, this.options.clock.now());
        else if (!(startedAlready && attempt === 1)) record = await this.startStep(record, step, phase, context);
        const boundary = (point: SagaBoundary) =>
          this.options.onBoundary?.(`${step.name}:${phase}:${point}`, record.type);
        boundary('before-effect');
        if (step.local) {
          // Begun by the step's first statement: a step that only defers its writes commits in its checkpoint's.
          const outcome = await lazyTransaction(db, async (tx) => {
            const riding = carried && (await carried.prepare(tx));
            if (riding) {
              record = after(riding.state);
              context.state = record.state;
            }
            const result = await this.invoke(step, phase, context, tx);
            if (!('ok' in result))
              return { record: riding ? await this.writeCarried(record, riding, tx) : record, result };
            const { ok } = result;
            const { writes } = context;
            const next =
              phase === 'run'
                ? await this.withHistory(
                    definition,
                    transition,
                    after(ok),
                    (tx, history) => completed(ok, { tx, history, writes, carried: riding }),
                    tx,
                  )
                : await completed(ok, { tx, writes });
            return { record: next, result };
          });
          carried?.written();
          boundary('after-checkpoint');
          return { ...outcome, startedNext };
        }
        const result = await this.invoke(step, phase, context, undefined);
        boundary('after-effect');
        if ('ok' in result && nextOf(result.ok)?.local) {
          // The next step is local: this checkpoint rides with that step's, one statement and one commit fewer.
          const ok = result.ok;
          const carried = this.carry(definition, record, step.name, ok, result.outcome, context.writes, () =>
            boundary('after-checkpoint'),
          );
          return {
            record: withStep(after(ok), step.name, phase, completedAt(this.options.clock.now())),
            result,
            carried,
          };
        }
        if ('ok' in result) {
          const { ok, outcome } = result;
          // The checkpoint alone is one statement: a transaction only when an outcome or a history goes with it.
          record =
            phase === 'run' && (outcome || definition.record)
              ? await this.withHistory(definition, transition, after(ok), async (tx, history) => {
                  const { writes } = context;
                  const recorded = await outcome?.(tx, true, writes);
                  return completed({ ...ok, ...recorded }, { tx, history, writes });
                })
              : await completed(ok, { tx: db, writes: context.writes });
        }
        boundary('after-checkpoint');
        return { record, result, startedNext };
      } catch (error) {
        if (error instanceof LeaseLostError) throw error;
        // Its checkpoint was to store the saga: stored now, before the error is noted and retried. A
        // unique key its creation or first step claims was taken (an Idempotency-Key, an address):
        // nothing is stored, and the start fails with that error for its caller to answer.
        if (this.unstored.has(record.id)) {
          if (isUniqueViolation(error)) {
            this.unstored.delete(record.id);
            throw error;
          }
          await this.storeNow(record.id);
        }
        // The step before's checkpoint rode with this one's: written alone, before the retries.
        if (carried) [record, carried] = [await this.writeAlone(record, carried), undefined];
        const message = error instanceof Error ? error.message : String(error);
        record = withStep(record, step.name, phase, (s) => ({ ...s, error: message }));
        await this.noteError(record, step.name, phase).catch(() => {});
        if (attempt >= retry.maxAttempts)
          return { record, result: { fail: { code: 'step_failed', message: `${step.name}: ${message}` } } };
        const delay = backoffDelay(retry, attempt);
        log.warn(
          { sagaId: record.id, step: step.name, phase, attempt, retryInMs: delay, reason: message },
          'saga step failed; retrying',
        );
        await sleep(delay);
      }
    }
  }

  /**
   * An external step's checkpoint, kept to ride with the next (local) step's statement: its
   * outcome and history are made (deferred) in the transaction that writes them, once.
   */
  private carry(
    definition: SagaDefinition<Record<string, unknown>>,
    record: SagaRecord,
    step: string,
    ok: Partial<Record<string, unknown>>,
    outcome: StepOutcome | undefined,
    writes: DeferredWrites,
    written: () => void,
  ): Carried {
    let prepared: Promise<CarriedCheckpoint> | undefined;
    const prepare = async (tx: Sql): Promise<CarriedCheckpoint> => {
      // A copy each time: an outcome that failed after handing over writes leaves none behind for the next try.
      const all = copyOf(writes);
      const state = { ...ok, ...(await outcome?.(tx, true, all)) };
      const histories: StreamAppend[] = [];
      await definition.record?.(
        tx,
        { kind: 'step-completed', step },
        {
          sagaId: record.id,
          state: { ...record.state, ...state },
          fresh: this.fresh.delete(record.id),
          append: async (history) => void histories.push(history),
        },
      );
      return { step, state, writes: all, histories };
    };
    return {
      prepare: (tx) =>
        (prepared ??= prepare(tx).catch((error: unknown) => {
          prepared = undefined;
          throw error;
        })),
      written,
    };
  }

  /** A carried checkpoint written alone (in `tx`, as its last statement). */
  private writeCarried(record: SagaRecord, carried: CarriedCheckpoint, tx: Sql): Promise<SagaRecord> {
    const { step, state, writes, histories } = carried;
    const [history, ...more] = mergeByStream(histories);
    // A copy: the carried writes stay as they were, should a merged statement have them again.
    const all = concatWrites(writes);
    for (const append of [...writes.appends, ...more]) all.append(append);
    return this.finishStep(record, step, 'run', 'completed', null, { state }, { tx, history, writes: all });
  }

  private async writeAlone(record: SagaRecord, carried: Carried): Promise<SagaRecord> {
    const written = await lazyTransaction(this.options.db, async (tx) =>
      this.writeCarried(record, await carried.prepare(tx), tx),
    );
    carried.written();
    return written;
  }

  private async invoke(
    step: SagaStep<Record<string, unknown>>,
    phase: 'run' | 'compensate',
    context: Parameters<SagaStep<Record<string, unknown>>['run']>[0],
    tx: Sql | undefined,
  ) {
    const what = `${step.name} (${phase})`;
    if (phase === 'run') {
      const work = step.run(context, tx);
      return withTimeout(work, step.timeoutMs, what).catch((error: unknown) => {
        void work.then((late) => late.outcome && this.recordLate(context.sagaId, late.outcome)).catch(() => {});
        throw error;
      });
    }
    await withTimeout(step.compensate!(context, tx), step.timeoutMs, what);
    return { ok: {} };
  }

  /** What an attempt that outlived its timeout did, recorded when it lands: undone if the saga has stopped running. */
  private async recordLate(id: string, outcome: StepOutcome): Promise<void> {
    await this.options.db.transaction(async (tx) => outcome(tx, (await lockSagaStatus(tx, id)) === 'running'));
  }

  /** An external step's attempt starts, with its intent (in one statement), only while this process holds the lease. */
  private async startStep(
    record: SagaRecord,
    step: SagaStep<Record<string, unknown>>,
    phase: 'run' | 'compensate',
    context: StepContext<Record<string, unknown>>,
  ): Promise<SagaRecord> {
    const now = this.options.clock.now();
    const params = [record.id, step.name, phase, this.options.owner, now];
    const intent = new DeferredWrites();
    if (phase === 'run') step.intent?.(context, intent);
    const { ctes, params: more } = intent.ctes(params.length);
    const { rows } = await this.options.db.query<{ n: number }>(
      `with ${[...ctes, ''].join(', ')}started as (
         insert into saga_steps (saga_id, step, phase, status, attempts, started_at)
         select $1, $2, $3, 'started', 1, $5 from sagas where id = $1 and lease_owner = $4
         on conflict (saga_id, step, phase) do update set status = 'started', attempts = saga_steps.attempts + 1, error = null
         returning 1
       ) select count(*)::int as n from started`,
      [...params, ...more],
      PREPARED,
    );
    if (rows[0]!.n === 0) throw new LeaseLostError();
    return withStep(record, step.name, phase, started, now);
  }

  /** A failed attempt's error, shown with the step (a local step's row is written here first). */
  private async noteError(record: SagaRecord, step: string, phase: 'run' | 'compensate'): Promise<void> {
    const row = record.steps.find((s) => s.step === step && s.phase === phase)!;
    await this.options.db.query(
      `insert into saga_steps (saga_id, step, phase, status, attempts, started_at, error) values ($1, $2, $3, 'started', $4, $5, $6)
       on conflict (saga_id, step, phase) do update set attempts = excluded.attempts, error = excluded.error`,
      [record.id, step, phase, row.attempts, row.startedAt, row.error],
    );
  }

  /** Records a step's outcome (and the saga's new state or status) only while this process holds the lease. */
  private async finishStep(
    record: SagaRecord,
    step: string,
    phase: 'run' | 'compensate',
    status: 'completed' | 'failed',
    error: string | null,
    change: { state?: object; status?: SagaStatus; failure?: StepFailure },
    { tx, history, writes = new DeferredWrites(), more = false, next: nextStep, carried }: Checkpoint,
  ): Promise<SagaRecord> {
    const now = this.options.clock.now();
    const finished = withStep(
      record,
      step,
      phase,
      (s) => ({ ...s, status, finishedAt: now, error: error ?? s.error }),
      now,
    );
    const next = nextStep ? withStep(finished, nextStep, 'run', started, now) : finished;
    const row = next.steps.find((s) => s.step === step && s.phase === phase)!;
    // One statement, so atomic even outside a transaction (an external step's compensation):
    // a crash never leaves the saga's new state with its step still `started`. A completed saga
    // gives up its lease in it. A local step's row is first written here. The history's and the
    // step's appends and writes go with it; without the lease (guard empty) it fails whole.
    const histories = mergeByStream([...(carried?.histories ?? []), ...(history ? [history] : [])]);
    const appends = [...(carried?.writes.appends ?? []), ...writes.appends, ...histories];
    const state = { ...carried?.state, ...change.state };
    const reached = appends.length ? `(select max(out_position) from appended)` : 'position';
    const unstored = this.unstored.get(record.id);
    const ctes = `${unstored ? insertedSaga(appends.length ? reached : 'null', nextStep ? 14 : 13) : updatedSaga(reached)},${
      nextStep
        ? ` next_started as (
         insert into saga_steps (saga_id, step, phase, status, attempts, started_at)
         select id, $13, 'run', 'started', 1, $6 from saga
         on conflict (saga_id, step, phase) do update set status = 'started', attempts = saga_steps.attempts + 1, error = null
       ),`
        : ''
    } guard as (
         insert into saga_steps (saga_id, step, phase, status, attempts, started_at, finished_at, error)
         select id, $7, $8, $9, $11, $12, $6, $10 from saga
         on conflict (saga_id, step, phase) do update set status = excluded.status, finished_at = excluded.finished_at,
           attempts = excluded.attempts, error = coalesce(excluded.error, saga_steps.error)
         returning 1
       )`;
    const params = [
      record.id,
      this.options.owner,
      JSON.stringify(state),
      change.status ?? null,
      change.failure ? JSON.stringify(change.failure) : null,
      now,
      step,
      phase,
      status,
      error,
      row.attempts,
      row.startedAt,
      ...(nextStep ? [nextStep] : []),
    ];
    if (unstored)
      params.push(unstored.type, JSON.stringify(unstored.state), this.leaseMs, unstored.now, unstored.traceparent);
    // The carried step's row completes with this one's (it exists: its attempt started it).
    const carriedRow = carried && next.steps.find((s) => s.step === carried.step && s.phase === 'run')!;
    const carriedCte = carried
      ? `, carried_done as (
         update saga_steps set status = 'completed', finished_at = $6, attempts = $${params.length + 2}
         where saga_id = (select id from saga) and step = $${params.length + 1} and phase = 'run'
       )`
      : '';
    if (carried) params.push(carried.step, carriedRow!.attempts);
    const extra = concatWrites(unstored?.writes, carried?.writes, writes).ctes(params.length);
    const along = { ctes: [...extra.ctes, ctes + carriedCte].join(', '), params: [...params, ...extra.params] };
    let position = record.position;
    try {
      if (appends.length)
        position = (await this.store.appendStreams(appends, { tx, along, last: !more, ...PREPARED })).at(-1)!.position;
      else {
        const text = `with ${along.ctes} select require_guard((select count(*) from guard))`;
        await (more ? tx.query(text, along.params, PREPARED) : lastStatement(tx, text, along.params, PREPARED));
      }
    } catch (error) {
      const guard = error instanceof GuardError || (error as { code?: string }).code === GUARD_FAILED;
      if (guard && !unstored) throw new LeaseLostError();
      throw error;
    }
    this.unstored.delete(record.id);
    return {
      ...next,
      state: { ...record.state, ...state },
      status: change.status ?? record.status,
      failure: change.failure ?? record.failure,
      updatedAt: now,
      position,
    };
  }

  private async setStatus(id: string, status: SagaStatus, tx: Sql = this.options.db): Promise<void> {
    await tx.query(
      `update sagas set status = $2, updated_at = $3, lease_owner = null, lease_until = null where id = $1`,
      [id, status, this.options.clock.now()],
    );
  }
}

/**
 * Where a checkpoint is written: with the saga's history and the step's writes; `more`: statements
 * follow it; `next`: the external step whose first attempt starts in it (its intent among `writes`).
 */
/** How `start` stores a new saga. */
export interface StartOptions {
  /** Made with the creation, only when the saga is new. */
  writes?: DeferredWrites;
  /**
   * Stored by its first step's checkpoint when that step is local (`storeLater`): one statement
   * and one commit fewer. Only for an id never used before (a retried start must not use it).
   */
  storedByFirstStep?: boolean;
}

/** A new saga, as its creation stores it. */
interface Creation {
  id: string;
  type: string;
  state: Record<string, unknown>;
  writes: DeferredWrites;
  now: Date;
  traceparent: string | null;
  /** Its first step, when external: its first attempt starts in the creation's statement. */
  start: SagaStep<Record<string, unknown>> | undefined;
}

/** A checkpoint's `saga` CTE: the saga's new state, only while this process holds its lease. */
const updatedSaga = (reached: string) => `saga as (
         update sagas set state = state || $3, status = coalesce($4, status), failure = coalesce($5, failure), updated_at = $6,
           position = ${reached},
           lease_owner = case when $4::text = 'completed' then null else lease_owner end,
           lease_until = case when $4::text = 'completed' then null else lease_until end
         where id = $1 and lease_owner = $2
         returning id
       )`;

/**
 * The first checkpoint of a saga `storeLater` kept: the saga stored as that checkpoint leaves it,
 * its lease ours. Its creation's type, state, lease, time and trace are parameters `$n`… `$n+4`.
 */
const insertedSaga = (reached: string, n: number) => `saga as (
         insert into sagas (id, type, status, state, failure, lease_owner, lease_until, created_at, updated_at, traceparent, position)
         values ($1, $${n}, coalesce($4, 'running'), $${n + 1}::jsonb || $3::jsonb, $5::jsonb,
           case when $4::text = 'completed' then null else $2 end,
           case when $4::text = 'completed' then null else clock_timestamp() + $${n + 2} * interval '1 millisecond' end,
           $${n + 3}, $6, $${n + 4}, ${reached})
         on conflict (id) do nothing
         returning id
       )`;

/** The writes (not the appends) of each source in turn, as one. */
const concatWrites = (...sources: (DeferredWrites | undefined)[]): DeferredWrites => {
  const all = new DeferredWrites();
  for (const source of sources) for (const write of source?.writes ?? []) all.write(write.text, write.params);
  return all;
};

/** Another DeferredWrites holding the same writes and appends. */
const copyOf = (writes: DeferredWrites): DeferredWrites => {
  const copy = concatWrites(writes);
  for (const append of writes.appends) copy.append(append);
  return copy;
};

/** Appends of one history, in order: those to the same stream as one (each follows the one before it). */
const mergeByStream = (appends: StreamAppend[]): StreamAppend[] => {
  const merged: StreamAppend[] = [];
  for (const append of appends) {
    const same = merged.findIndex((m) => m.streamId === append.streamId);
    if (same < 0) merged.push(append);
    else merged[same] = { ...merged[same]!, events: [...merged[same]!.events, ...append.events] };
  }
  return merged;
};

/** An external step's checkpoint that rides with the next (local) step's statement. */
interface Carried {
  /** Its outcome and history, made in `tx` (once: a second call gives the first's). */
  prepare(tx: Sql): Promise<CarriedCheckpoint>;
  /** Its `after-checkpoint` boundary, once it is written. */
  written(): void;
}

interface CarriedCheckpoint {
  step: string;
  state: Partial<Record<string, unknown>>;
  writes: DeferredWrites;
  histories: StreamAppend[];
}

interface Checkpoint {
  tx: Sql;
  history?: StreamAppend;
  writes?: DeferredWrites;
  more?: boolean;
  next?: string;
  /** The step before's checkpoint, written in this one's statement. */
  carried?: CarriedCheckpoint;
}

/** A step's row as its checkpoint completes it. */
const completedAt =
  (now: Date) =>
  (row: StepRecord): StepRecord => ({ ...row, status: 'completed', finishedAt: now });

/** A step's row as an attempt starts it. */
const started = (row: StepRecord): StepRecord => ({
  ...row,
  status: 'started',
  attempts: row.attempts + 1,
  error: null,
});

/** The record with one step's row changed as the store changed it (a new row when it is the step's first start). */
function withStep(
  record: SagaRecord,
  step: string,
  phase: 'run' | 'compensate',
  change: (row: StepRecord) => StepRecord,
  startedAt: Date | null = null,
): SagaRecord {
  const found = record.steps.some((s) => s.step === step && s.phase === phase);
  const fresh: StepRecord = { step, phase, status: 'started', attempts: 0, startedAt, finishedAt: null, error: null };
  const steps = found
    ? record.steps.map((s) => (s.step === step && s.phase === phase ? change(s) : s))
    : [...record.steps, change(fresh)];
  return { ...record, steps };
}
