import type { EventCatalog } from '../catalog/catalog.ts';
import type { Clock } from '../clock.ts';
import type { ConsumerRunner } from '../consumers/consumer-runner.ts';
import type { Logger } from '../logger.ts';
import { consumerLag } from '../metrics.ts';
import { IdleBackoff } from '../store/append-signal.ts';
import { Checkpoints } from '../store/checkpoints.ts';
import type { LogPosition } from '../store/envelope.ts';
import type { EventStore } from '../store/event-store.ts';
import type { Bus, Subscription } from './bus.ts';
import { toCloudEvent } from './cloudevent.ts';

export interface EmbeddedBusOptions {
  store: EventStore;
  catalog: EventCatalog;
  clock: Clock;
  log: Logger;
  /** The longest an idle group waits before looking again (an append or a commit notification wakes it sooner). */
  pollIntervalMs?: number;
  batchSize?: number;
}

/**
 * The bus without a broker: each consumer group reads the store's global log from its own
 * durable checkpoint, saved after each handled batch (at least once, like Kafka offsets).
 */
export class EmbeddedBus implements Bus {
  readonly kind = 'embedded' as const;
  private readonly subscriptions = new Set<Subscription>();
  private readonly checkpoints: Checkpoints;

  constructor(private readonly options: EmbeddedBusOptions) {
    this.checkpoints = new Checkpoints(options.store.db, options.clock);
  }

  async start(): Promise<void> {}

  async subscribe(runner: ConsumerRunner): Promise<Subscription> {
    const { store, catalog, log } = this.options;
    const types = catalog.typesOf(runner.consumer.topics);
    const checkpointName = `consumer:${runner.name}`;
    const abort = new AbortController();
    let position: LogPosition = await this.checkpoints.load(checkpointName);
    const idle = new IdleBackoff(store.appended, 20, this.options.pollIntervalMs ?? 30_000);

    const loop = async () => {
      while (!abort.signal.aborted) {
        try {
          const rows = await store.readAllRaw(position, { types, limit: this.options.batchSize ?? 200 });
          if (rows.length === 0) {
            await idle.wait(abort.signal);
            continue;
          }
          idle.reset();
          // The checkpoint is saved once per batch (and on stop): a crash redelivers at most the
          // batch, and the consumer's inbox drops what it already applied.
          // The runner applies the batch in one transaction (one by one if something in it fails).
          if (abort.signal.aborted) return;
          const messages = rows.map((row) => {
            const message = toCloudEvent(row, catalog.get(row.type).topic);
            message.origin = { position: row.position };
            return message;
          });
          try {
            const done = await runner.processBatch(messages);
            const last = done.length > 0 ? rows[done.length - 1] : undefined;
            if (last) position = { txId: last.tx_id, position: last.position };
            if (done.length < rows.length) return; // stopped in a retry wait: the rest is redelivered
          } finally {
            await this.checkpoints.save(checkpointName, position);
          }
        } catch (error) {
          // The store is unreachable or the checkpoint could not be saved: the event is redelivered.
          log.error({ err: error, consumer: runner.name }, 'embedded bus: delivery failed; retrying');
          await new Promise((resolve) => setTimeout(resolve, 1_000));
        }
      }
    };
    const running = loop();

    const subscription: Subscription = {
      consumer: runner.name,
      lag: async () => {
        const lag = await store.countAfter(position, types);
        consumerLag.set({ consumer: runner.name }, lag);
        return lag;
      },
      stop: async () => {
        abort.abort();
        runner.stop();
        await running;
        this.subscriptions.delete(subscription);
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  // The dead-letter record (kept for every bus) is the embedded bus's dead-letter topic.
  async publishDeadLetter(): Promise<void> {}

  async healthy(): Promise<boolean> {
    try {
      await this.options.store.db.query('select 1');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
  }
}
