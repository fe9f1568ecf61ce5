import { scrubAddresses } from '../crypto/scrub.ts';
import { continueTrace, withTrace } from '../tracing.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { fromCloudEvent, PoisonMessageError } from '../bus/cloudevent.ts';
import type { BusMessage } from '../bus/message.ts';
import type { EventCatalog } from '../catalog/catalog.ts';
import type { Clock } from '../clock.ts';
import type { Database, Sql } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import { consumerProcessed, deadLetters, handlerDuration, handlerFailures } from '../metrics.ts';
import type { RecordedEvent } from '../store/envelope.ts';
import type { ConsumerDefinition, HandlerContext } from './consumer.ts';
import type { DeadLetterStore } from './dead-letter-store.ts';
import { EventContext, eventLogger, reactionMetadata } from './event-context.ts';
import { PositionTaken } from './group-position.ts';
import type { OrderedBatch } from './ordered-batch.ts';
import { PermanentError } from './permanent-error.ts';
import { backoffDelay, type RetryPolicy } from './retry-policy.ts';

/** A batch's inbox rows in one statement; it returns the ids that were already there (duplicates). */
const INSERT_BATCH_INBOX = /* sql */ `
  with batch as (select unnest($2::uuid[]) as event_id),
    fresh as (
      insert into inbox (consumer, event_id, processed_at) select $1, event_id, $3 from batch
      on conflict do nothing returning event_id
    )
  select event_id from batch except select event_id from fresh`;

/**
 * An event id as PostgreSQL writes a uuid back. The batch's inbox statement is matched by text: an id
 * written another way (upper case, braces) goes through `process`, where PostgreSQL compares the uuids.
 */
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export type Outcome = 'processed' | 'duplicate' | 'dead-lettered';

export interface ConsumerRunnerDeps {
  db: Database;
  catalog: EventCatalog;
  clock: Clock;
  log: Logger;
  deadLetters: DeadLetterStore;
  /** Also sends the dead letter to the consumer's dead-letter topic (Kafka). */
  publishDeadLetter?: (consumer: string, message: BusMessage, error: string) => Promise<void>;
  retry: RetryPolicy;
}

/**
 * Runs one consumer's handler for each message a bus delivers, whichever the bus: decodes the
 * CloudEvent, runs the effect in a transaction with the inbox record (exactly-once effect),
 * retries with backoff, and dead-letters what keeps failing or can never succeed.
 * The bus commits its offset or checkpoint only after `process` or `processBatch` resolves.
 */
export class ConsumerRunner {
  private stopping = false;

  constructor(
    readonly consumer: ConsumerDefinition,
    private readonly deps: ConsumerRunnerDeps,
  ) {}

  get name(): string {
    return this.consumer.name;
  }

  /** Where the handler's effects and the inbox are written. */
  get db(): Database {
    return this.deps.db;
  }

  /** Stops retry waits early: the event in hand is left uncommitted and is redelivered later (a batch's transaction in hand still commits). */
  stop(): void {
    this.stopping = true;
  }

  async process(message: BusMessage): Promise<Outcome | 'interrupted'> {
    let event: RecordedEvent;
    try {
      event = fromCloudEvent(this.deps.catalog, message);
    } catch (error) {
      if (!(error instanceof PoisonMessageError)) throw error;
      await this.deadLetter(message, error.message, true, 0);
      return 'dead-lettered';
    }
    return this.processEvent(message, event);
  }

  /**
   * Processes messages delivered in this order (per key: the order of their partition or of the
   * log) and resolves with the outcomes of those finished, in order: fewer than the messages when
   * stopped during a retry wait (the rest is left uncommitted and redelivered). The bus commits its
   * offsets or checkpoint for the finished ones only after it resolves.
   *
   * The whole batch is one transaction: the inbox rows of its events (the duplicates drop out), then
   * the handler of each new event in order, then one commit. If anything throws, it rolls back and
   * the batch is processed again one message at a time with `process` (each in its own transaction,
   * with its retries and dead letter), the failure in the batch counting as the failing event's
   * first attempt: one bad event neither blocks nor duplicates the others.
   *
   * With an `ordered` batch (the embedded bus, Kafka) the transaction moves the bus's positions past
   * the batch instead of writing its inbox rows; the paths one event at a time still use the inbox.
   */
  async processBatch(messages: readonly BusMessage[], ordered?: OrderedBatch): Promise<Outcome[]> {
    if (messages.length === 0) return [];
    // A runner whose `process` is decorated (tests counting outcomes) sees every message go through it.
    const batched = this.consumer.batch !== false || this.consumer.handleBatch !== undefined;
    if ((messages.length === 1 && !ordered) || !batched || this.process !== ConsumerRunner.prototype.process)
      return this.oneByOne(messages, undefined, ordered);
    const events: (RecordedEvent | PoisonMessageError)[] = [];
    try {
      for (const message of messages) {
        try {
          events.push(fromCloudEvent(this.deps.catalog, message));
        } catch (error) {
          if (!(error instanceof PoisonMessageError)) throw error;
          events.push(error);
        }
      }
    } catch {
      return this.oneByOne(messages, undefined, ordered); // `process` meets the same error at its message, after the ones before
    }
    // A poison message is dead-lettered after the commit: not once its position is passed.
    if (ordered && events.some((event) => event instanceof PoisonMessageError))
      return this.oneByOne(messages, undefined, ordered);
    if (events.some((event) => !(event instanceof PoisonMessageError) && !CANONICAL_UUID.test(event.id)))
      return this.oneByOne(messages, undefined, ordered);
    const failed: { index?: number; error?: unknown } = {};
    let applied: { outcomes: Outcome[]; retry: Map<number, unknown> };
    const end = handlerDuration.startTimer({ consumer: this.name });
    try {
      applied = await this.deps.db.transaction((tx) => this.applyBatch(tx, events, failed, ordered));
    } catch (error) {
      end();
      if (error instanceof PositionTaken) throw error; // the bus reads on from where the other member is
      // A statement in an aborted transaction fails whatever its handler: not that event's fault.
      const attributable =
        failed.index !== undefined && (failed.error as { code?: unknown } | null)?.code !== '25P02'
          ? { index: failed.index, error: failed.error }
          : undefined;
      if (!attributable)
        this.deps.log.warn(
          { consumer: this.name, err: error, size: messages.length },
          'batch failed; processing its messages one at a time',
        );
      return this.oneByOne(messages, attributable, ordered);
    }
    end();
    const { outcomes, retry } = applied;
    const processed = outcomes.filter((outcome) => outcome === 'processed').length - retry.size;
    if (processed > 0) consumerProcessed.inc({ consumer: this.name }, processed);
    // Dead letters of poison messages once the batch is committed (a rollback sends them through `process`).
    for (const [index, event] of events.entries()) {
      if (event instanceof PoisonMessageError) await this.deadLetter(messages[index]!, event.message, true, 0);
    }
    // Events the batch handler reported as failed on their own: committed without them, retried alone.
    for (const [index, error] of retry) {
      const outcome = await this.processEvent(messages[index]!, events[index] as RecordedEvent, error);
      if (outcome === 'interrupted') return outcomes.slice(0, index);
      outcomes[index] = outcome;
    }
    return outcomes;
  }

  /**
   * The batch's transaction: the inbox rows of its events (the duplicates drop out), or the claim of
   * an ordered batch, then the batch handler, or the handler of each new event in order. `failed`
   * names the event whose handler threw.
   */
  private async applyBatch(
    tx: Sql,
    events: readonly (RecordedEvent | PoisonMessageError)[],
    failed: { index?: number; error?: unknown },
    ordered?: OrderedBatch,
  ): Promise<{ outcomes: Outcome[]; retry: Map<number, unknown> }> {
    const { checkInbox, passed } = ordered ? await ordered.claim(tx) : { checkInbox: true, passed: undefined };
    const ids = new Set<string>();
    for (const [index, event] of events.entries())
      if (!(event instanceof PoisonMessageError) && !passed?.has(index)) ids.add(event.id);
    if (checkInbox) {
      // The statement answers the ids already in the inbox (usually none), not the rows it wrote.
      const { rows } = await tx.query<{ event_id: string }>(INSERT_BATCH_INBOX, [
        this.name,
        [...ids],
        this.deps.clock.now(),
      ]);
      for (const row of rows) ids.delete(row.event_id);
    }
    const outcomes: Outcome[] = [];
    const todo: { index: number; event: RecordedEvent }[] = [];
    for (const [index, event] of events.entries()) {
      if (event instanceof PoisonMessageError) outcomes.push('dead-lettered');
      else if (!ids.delete(event.id)) outcomes.push('duplicate');
      else {
        outcomes.push('processed');
        todo.push({ index, event });
      }
    }
    const retry = new Map<number, unknown>();
    if (this.consumer.handleBatch) {
      if (todo.length === 0) return { outcomes, retry };
      const failures = await this.consumer.handleBatch(
        todo.map(({ event }) => event),
        {
          tx,
          log: this.deps.log.child({ consumer: this.name }),
          metadataOf: (event) => this.metadataOf(event, continueTrace(event.metadata.traceparent)),
        },
      );
      if (failures && failures.size > 0) {
        for (const { index, event } of todo) if (failures.has(event.id)) retry.set(index, failures.get(event.id));
        await this.keepFailures(tx, todo, failures, checkInbox, ordered);
      }
      return { outcomes, retry };
    }
    for (const { index, event } of todo) {
      try {
        // A span of the event's trace: what the handler appends and logs carries its trace id.
        const span = continueTrace(event.metadata.traceparent);
        await withTrace(span, () => this.consumer.handle(event, this.contextOf(event, tx, span)));
      } catch (error) {
        failed.index = index;
        failed.error = error;
        throw error;
      }
    }
    return { outcomes, retry };
  }

  /**
   * The batch commits without the events its handler reported failed (retried alone next): their
   * inbox rows go, or in an ordered batch without inbox rows, the others' are written and the
   * position stays before the batch, whose range is then checked against the inbox.
   */
  private async keepFailures(
    tx: Sql,
    todo: readonly { event: RecordedEvent }[],
    failures: ReadonlyMap<string, unknown>,
    checkInbox: boolean,
    ordered?: OrderedBatch,
  ): Promise<void> {
    await ordered?.keep(tx);
    if (checkInbox) {
      await tx.query('delete from inbox where consumer = $1 and event_id = any($2::uuid[])', [
        this.name,
        [...failures.keys()],
      ]);
      return;
    }
    const done = todo.map(({ event }) => event.id).filter((id) => !failures.has(id));
    await tx.query(
      'insert into inbox (consumer, event_id, processed_at) select $1, unnest($2::uuid[]), $3 on conflict do nothing',
      [this.name, done, this.deps.clock.now()],
    );
  }

  private async oneByOne(
    messages: readonly BusMessage[],
    failed?: { index: number; error: unknown },
    ordered?: OrderedBatch,
  ): Promise<Outcome[]> {
    await ordered?.throughInbox();
    const outcomes: Outcome[] = [];
    for (const [index, message] of messages.entries()) {
      const outcome =
        failed?.index === index
          ? await this.processEvent(message, fromCloudEvent(this.deps.catalog, message), failed.error)
          : await this.process(message);
      if (outcome === 'interrupted') break;
      outcomes.push(outcome);
    }
    return outcomes;
  }

  /** Applies the event with retries; `firstFailure` is the error of an attempt already made (in a batch). */
  private async processEvent(
    message: BusMessage,
    event: RecordedEvent,
    firstFailure?: unknown,
  ): Promise<Outcome | 'interrupted'> {
    const log = this.logOf(event);
    for (let attempt = 1; ; attempt++) {
      try {
        if (attempt === 1 && firstFailure !== undefined) throw firstFailure;
        return await this.applyOnce(event, log, message);
      } catch (error) {
        handlerFailures.inc({ consumer: this.name });
        const reason = error instanceof Error ? error.message : String(error);
        if (error instanceof PermanentError || attempt >= this.deps.retry.maxAttempts) {
          log.error({ err: error, attempt }, 'handler failed; dead-lettering the event');
          await this.deadLetter(message, reason, false, attempt);
          return 'dead-lettered';
        }
        const delay = backoffDelay(this.deps.retry, attempt);
        log.warn({ err: error, attempt, delay }, 'handler failed; retrying');
        await sleep(delay);
        if (this.stopping) return 'interrupted';
      }
    }
  }

  private logOf(event: RecordedEvent): Logger {
    return eventLogger(this.deps.log, this.name, event);
  }

  private metadataOf(event: RecordedEvent, traceparent: string) {
    return reactionMetadata(this.name, event, traceparent);
  }

  private contextOf(event: RecordedEvent, tx: Sql, traceparent: string, log?: Logger): HandlerContext {
    return new EventContext(tx, this.name, event, traceparent, this.deps.log, log);
  }

  /** Runs the handler for a dead letter again; true when its effect is now committed. */
  async replay(message: BusMessage): Promise<boolean> {
    const event = fromCloudEvent(this.deps.catalog, message);
    const log = this.deps.log.child({ consumer: this.name, eventId: event.id, replay: true });
    await this.applyOnce(event, log);
    return true;
  }

  /**
   * The event's own transaction: its inbox row and its effect. A `message` whose bus keeps a
   * position here is also a duplicate once that position has passed it (a batch committed without
   * inbox rows); a replayed dead letter, which the position did pass, is not.
   */
  private async applyOnce(event: RecordedEvent, log: Logger, message?: BusMessage): Promise<Outcome> {
    const end = handlerDuration.startTimer({ consumer: this.name });
    // A span of the event's trace: what the handler appends and logs carries its trace id.
    const span = continueTrace(event.metadata.traceparent);
    const outcome = await withTrace(span, () =>
      this.deps.db.transaction(async (tx) => {
        if (message?.mark && (await message.mark.passed(tx, this.deps.db, this.name, event)))
          return 'duplicate' as const;
        const { rowCount } = await tx.query(
          'insert into inbox (consumer, event_id, processed_at) values ($1, $2, $3) on conflict do nothing',
          [this.name, event.id, this.deps.clock.now()],
        );
        if (rowCount === 0) return 'duplicate' as const;
        await this.consumer.handle(event, this.contextOf(event, tx, span, log));
        return 'processed' as const;
      }),
    );
    end();
    if (outcome === 'processed') consumerProcessed.inc({ consumer: this.name });
    return outcome;
  }

  private async deadLetter(message: BusMessage, error: string, poison: boolean, attempts: number): Promise<void> {
    // Error texts outlive an erasure (dead-letter table, Kafka header): no address stays in them.
    error = scrubAddresses(error);
    await this.deps.publishDeadLetter?.(this.name, message, error);
    await this.deps.deadLetters.record(this.name, message, { error, poison, attempts });
    deadLetters.inc({ consumer: this.name, reason: poison ? 'poison' : 'failed' });
  }
}
