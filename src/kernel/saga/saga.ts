import type { Sql } from '../db/database.ts';
import type { RetryPolicy } from '../consumers/retry-policy.ts';
import type { DeferredWrites } from '../store/deferred-writes.ts';
import type { StreamAppend } from '../store/event-store.ts';

/** What a step needs to know; `idempotencyKey` (`sagaId:step`) goes to every external call. */
export interface StepContext<State> {
  sagaId: string;
  state: State;
  idempotencyKey: string;
  /** 1 for a step's first attempt in this process, then 2, 3… (a retry may not trust what the first assumed). */
  attempt: number;
  /**
   * Writes made in the statement of the step's checkpoint, when the step goes on (discarded when
   * it fails): a local step that reads nothing and writes only here commits in that one statement.
   */
  writes: DeferredWrites;
}

/** A business outcome that ends the saga: completed steps are compensated (e.g. a declined card). */
export interface StepFailure {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * How an external step records what its call did (e.g. the charge on the payment's stream).
 * The engine runs it in the transaction of the step's checkpoint, so the outcome and the step's
 * progress commit together, and what it resolves to joins the state of a step that went on; for
 * an attempt that outlived its timeout, in a transaction of its own, `goesOn` false when the saga
 * has stopped running meanwhile (so it can undo the effect).
 */
export type StepOutcome<State = unknown> = (
  tx: Sql,
  goesOn: boolean,
  /** At the checkpoint: writes made in its statement (a late attempt writes through `tx`). */
  writes?: DeferredWrites,
) => Promise<Partial<State> | void>;

export type StepResult<State> =
  { ok: Partial<State>; outcome?: StepOutcome<State> } | { fail: StepFailure; outcome?: StepOutcome<State> };

/**
 * One step, declared as data. A local step runs in the transaction that records its outcome
 * (effect and checkpoint commit together); an external step runs outside it with its
 * idempotency key, so running it again after a crash repeats nothing.
 */
export interface SagaStep<State> {
  name: string;
  local: boolean;
  run(context: StepContext<State>, tx: Sql | undefined): Promise<StepResult<State>>;
  compensate?(context: StepContext<State>, tx: Sql | undefined): Promise<void>;
  retry?: RetryPolicy;
  /**
   * When its retries run out: compensate the saga (the default), or park it, to be tried again
   * on the parked sagas' growing backoff, without end (a step that must happen: a refund).
   */
  whenExhausted?: 'compensate' | 'park';
  /**
   * An external step's intent: writes made in the statement that starts each attempt, durable
   * before its effect (e.g. a payment intent with its idempotency key).
   */
  intent?(context: StepContext<State>, writes: DeferredWrites): void;
  /** A step attempt taking longer counts as failed (and is retried). */
  timeoutMs?: number;
  /** Nothing to do for a saga in this state (e.g. no refund due): not started, not checkpointed, passed over. */
  skip?(state: State): boolean;
}

/** A change in a saga's course, written to its history. */
export type SagaTransition =
  | { kind: 'step-completed'; step: string }
  | { kind: 'failed'; step: string; failure: StepFailure }
  | { kind: 'compensated' }
  | { kind: 'parked'; error: string };

export interface HistoryContext<State> {
  sagaId: string;
  state: State;
  /** Nothing of its history was written before (the saga was created just now, here): there is nothing to read. */
  fresh: boolean;
  /** Appends the transition's events, in the statement that records the transition when it can. */
  append(history: StreamAppend): Promise<void>;
}

export interface SagaDefinition<State> {
  type: string;
  steps: SagaStep<State>[];
  /**
   * Appends the saga's history (events on its own stream) in the transaction that records each
   * transition: the history never says more, or less, than the saga did.
   */
  record?(tx: Sql, transition: SagaTransition, context: HistoryContext<State>): Promise<void>;
}

export type SagaStatus = 'running' | 'completed' | 'compensating' | 'compensated' | 'compensation_failed';

export interface StepRecord {
  step: string;
  phase: 'run' | 'compensate';
  status: 'started' | 'completed' | 'failed';
  attempts: number;
  startedAt: Date | null;
  finishedAt: Date | null;
  error: string | null;
}

export interface SagaRecord<State = Record<string, unknown>> {
  id: string;
  type: string;
  status: SagaStatus;
  state: State;
  failure: StepFailure | null;
  createdAt: Date;
  updatedAt: Date;
  /** Times a compensation that kept failing parked the saga (it is tried again, on a growing backoff). */
  attempts: number;
  /** When a parked saga is tried again. */
  nextAttemptAt: Date | null;
  lastError: string | null;
  /** The event store position its checkpoints' appends reached (null: none yet): read your writes from there. */
  position: number | null;
  steps: StepRecord[];
}

export const isFinished = (status: SagaStatus): boolean =>
  status === 'completed' || status === 'compensated' || status === 'compensation_failed';
