import { setTimeout as sleep } from 'node:timers/promises';
import { fromCloudEvent, PoisonMessageError } from '../bus/cloudevent.ts';
import type { BusMessage } from '../bus/message.ts';
import type { EventCatalog } from '../catalog/catalog.ts';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import { consumerProcessed, deadLetters, handlerDuration, handlerFailures } from '../metrics.ts';
import type { RecordedEvent } from '../store/envelope.ts';
import type { ConsumerDefinition } from './consumer.ts';
import type { DeadLetterStore } from './dead-letter-store.ts';
import { PermanentError } from './permanent-error.ts';
import { backoffDelay, type RetryPolicy } from './retry-policy.ts';

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
 * The bus commits its offset or checkpoint only after `process` resolves.
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

  /** Stops retry waits early: the event in hand is left uncommitted and is redelivered later. */
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
    const log = this.deps.log.child({
      consumer: this.name,
      eventId: event.id,
      eventType: event.type,
      correlationId: event.metadata.correlationId,
      causationId: event.metadata.causationId,
    });
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.applyOnce(event, log);
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

  /** Runs the handler for a dead letter again; true when its effect is now committed. */
  async replay(message: BusMessage): Promise<boolean> {
    const event = fromCloudEvent(this.deps.catalog, message);
    const log = this.deps.log.child({ consumer: this.name, eventId: event.id, replay: true });
    await this.applyOnce(event, log);
    return true;
  }

  private async applyOnce(event: RecordedEvent, log: Logger): Promise<Outcome> {
    const end = handlerDuration.startTimer({ consumer: this.name });
    const outcome = await this.deps.db.transaction(async (tx) => {
      const { rowCount } = await tx.query(
        'insert into inbox (consumer, event_id, processed_at) values ($1, $2, $3) on conflict do nothing',
        [this.name, event.id, this.deps.clock.now()],
      );
      if (rowCount === 0) return 'duplicate' as const;
      await this.consumer.handle(event, {
        tx,
        log,
        metadata: { correlationId: event.metadata.correlationId, causationId: event.id, actor: `consumer:${this.name}` },
      });
      return 'processed' as const;
    });
    end();
    if (outcome === 'processed') consumerProcessed.inc({ consumer: this.name });
    return outcome;
  }

  private async deadLetter(message: BusMessage, error: string, poison: boolean, attempts: number): Promise<void> {
    await this.deps.publishDeadLetter?.(this.name, message, error);
    await this.deps.deadLetters.record(this.name, message, { error, poison, attempts });
    deadLetters.inc({ consumer: this.name, reason: poison ? 'poison' : 'failed' });
  }
}
