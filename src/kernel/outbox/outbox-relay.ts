import { setTimeout as sleep } from 'node:timers/promises';
import { Counter } from 'prom-client';
import { toCloudEvent } from '../bus/cloudevent.ts';
import { describeKafkaError } from '../bus/describe-kafka-error.ts';
import type { BusMessage } from '../bus/message.ts';
import type { EventCatalog } from '../catalog/catalog.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { registry, relayLag, relayPublished } from '../metrics.ts';
import { IdleBackoff } from '../store/append-signal.ts';
import { Checkpoints } from '../store/checkpoints.ts';
import type { LogPosition } from '../store/envelope.ts';
import type { EventStore } from '../store/event-store.ts';

export const relaySkipped = new Counter({
  name: 'tributary_relay_skipped_total',
  help: 'Stored events the outbox relay could not publish because their type is unknown',
  labelNames: ['type'],
  registers: [registry],
});

/** Where the relay sends the log: `KafkaBus` (its idempotent producer). */
export interface OutboxPublisher {
  publish(messages: readonly BusMessage[]): Promise<void>;
}

export interface OutboxRelayOptions {
  store: EventStore;
  catalog: EventCatalog;
  publisher: OutboxPublisher;
  clock: Clock;
  log: Logger;
  /** Events per produce request (default 500): also the most a crash can publish twice. */
  batchSize?: number;
  /** The longest an idle relay waits before looking again (an append or a commit notification wakes it sooner). */
  pollIntervalMs?: number;
  /** The durable checkpoint's name (default `relay`). */
  checkpoint?: string;
  /**
   * Runs a batch if this process may publish now (several relay processes: one at a time);
   * resolves to false when another one holds the turn. Default: always this one.
   */
  leader?: (work: () => Promise<unknown>) => Promise<boolean>;
  /** First and longest wait after a failure (default 500 ms and 30 s). */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
}

/**
 * Publishes the store's global log to the bus after commit: reads from its durable checkpoint,
 * produces the batch, and only then saves the checkpoint. A crash between the two publishes the
 * batch again (at least once; consumers drop duplicates by event id); nothing is ever written to
 * the store and Kafka in one step (no dual writes).
 */
export class OutboxRelay {
  private readonly checkpoints: Checkpoints;
  private readonly name: string;
  private position: LogPosition | undefined;
  private abort = new AbortController();
  private running: Promise<void> | undefined;
  private lagMeasuredAt = -Infinity;

  constructor(private readonly options: OutboxRelayOptions) {
    this.checkpoints = new Checkpoints(options.store.db, options.clock);
    this.name = options.checkpoint ?? 'relay';
  }

  /** Publishes one batch; returns how many stored events it handled (0 = nothing to do). */
  async runOnce(): Promise<number> {
    const { store, catalog, publisher, log } = this.options;
    const from = (this.position ??= await this.checkpoints.load(this.name));
    const rows = await store.readAllRaw(from, { limit: this.options.batchSize ?? 500 });
    if (rows.length === 0) {
      await this.measureLag(from, true);
      return 0;
    }
    const messages: BusMessage[] = [];
    for (const row of rows) {
      if (!catalog.has(row.type)) {
        // Publishing it would poison every consumer of a guessed topic; it stays in the store.
        log.error(
          { eventId: row.event_id, eventType: row.type, position: row.position },
          'relay: unknown event type; not published',
        );
        relaySkipped.inc({ type: row.type });
        continue;
      }
      messages.push(toCloudEvent(row, catalog.get(row.type).topic));
    }
    await publisher.publish(messages);
    const last = rows[rows.length - 1]!;
    const next: LogPosition = { txId: last.tx_id, position: last.position };
    await this.checkpoints.save(this.name, next);
    this.position = next;
    const perTopic = new Map<string, number>();
    for (const message of messages) perTopic.set(message.topic, (perTopic.get(message.topic) ?? 0) + 1);
    for (const [topic, count] of perTopic) relayPublished.inc({ topic }, count);
    await this.measureLag(next, false);
    return rows.length;
  }

  /** Starts publishing in the background until `stop()`. */
  async start(): Promise<void> {
    if (this.running) return;
    this.abort = new AbortController();
    this.running = this.loop(this.abort.signal);
  }

  /** Finishes the batch in hand (published and checkpointed), then returns. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
    this.running = undefined;
  }

  private async loop(signal: AbortSignal): Promise<void> {
    const { store, log } = this.options;
    let failures = 0;
    const idle = new IdleBackoff(store.appended, 20, this.options.pollIntervalMs ?? 30_000);
    while (!signal.aborted) {
      try {
        const handled = await this.runAsLeader();
        if (failures > 0) log.info({ after: failures }, 'relay: publishing again');
        failures = 0;
        if (handled === 0) await idle.wait(signal);
        else idle.reset();
      } catch (error) {
        failures++;
        // Start again from the saved checkpoint: what the failed batch did publish comes again.
        this.position = undefined;
        const delay = Math.min(
          this.options.maxRetryDelayMs ?? 30_000,
          (this.options.retryDelayMs ?? 500) * 2 ** (failures - 1),
        );
        log.error(
          { attempt: failures, retryInMs: delay, reason: describeKafkaError(error) },
          'relay: publishing failed; retrying from the checkpoint',
        );
        await sleep(delay, undefined, { signal }).catch(() => {});
      }
    }
  }

  /** One batch when this process has the turn; 0 when another relay has it (its checkpoint is reloaded). */
  private async runAsLeader(): Promise<number> {
    if (!this.options.leader) return this.runOnce();
    let handled = 0;
    const led = await this.options.leader(async () => (handled = await this.runOnce()));
    if (!led) this.position = undefined;
    return handled;
  }

  /** Sets the lag gauge: at most once a second while busy (it counts rows), always when idle. */
  private async measureLag(at: LogPosition, idle: boolean): Promise<void> {
    const now = performance.now();
    if (!idle && now - this.lagMeasuredAt < 1_000) return;
    this.lagMeasuredAt = now;
    relayLag.set(await this.options.store.countAfter(at));
  }
}
