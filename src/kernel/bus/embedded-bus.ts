import type { EventCatalog } from '../catalog/catalog.ts';
import type { Clock } from '../clock.ts';
import type { ConsumerRunner } from '../consumers/consumer-runner.ts';
import type { Logger } from '../logger.ts';
import { consumerLag } from '../metrics.ts';
import { GroupPosition, groupPositionMark, PositionTaken } from '../consumers/group-position.ts';
import type { LogPosition } from '../store/envelope.ts';
import type { EventStore } from '../store/event-store.ts';
import type { Bus, Subscription } from './bus.ts';
import { toLocalCloudEvent } from './cloudevent.ts';

export interface EmbeddedBusOptions {
  store: EventStore;
  catalog: EventCatalog;
  clock: Clock;
  log: Logger;
  /**
   * The longest an idle group sleeps through a move of the log that no append in this process nor
   * commit notification announced (the store's shared safety poll, `store.watch`).
   */
  pollIntervalMs?: number;
  /** Rows of the log read at a time (EMBEDDED_PAGE). */
  pageSize?: number;
}

/**
 * A group reads the log a page at a time, every type, with the data of its own types only, and
 * hands a page's events of its types to the runner as one batch. Filtering by type in the query
 * instead made PostgreSQL sort all of the log after the position for each page.
 */
export const EMBEDDED_PAGE = 1_000;

/**
 * The bus without a broker: each consumer group reads the store's global log from its own durable
 * position. A consumer whose effects live in the store's database moves it in each batch's
 * transaction (exactly once without inbox rows); any other saves it after its batches (at least
 * once, like Kafka offsets, its inbox dropping what is redelivered).
 */
export class EmbeddedBus implements Bus {
  readonly kind = 'embedded' as const;
  private readonly subscriptions = new Set<Subscription>();

  constructor(private readonly options: EmbeddedBusOptions) {}

  async start(): Promise<void> {}

  async subscribe(runner: ConsumerRunner): Promise<Subscription> {
    const { store, catalog, log } = this.options;
    const types = catalog.typesOf(runner.consumer.topics);
    const stored = new GroupPosition(runner.name, store.db, this.options.clock);
    const mark = groupPositionMark(store.db);
    // The position can move in a batch's transaction only where the effects are written.
    const ordered = runner.db === store.db;
    const abort = new AbortController();
    let position: LogPosition = await stored.load();
    const { watch } = store;
    const maxMs = this.options.pollIntervalMs ?? 30_000;
    const limit = this.options.pageSize ?? EMBEDDED_PAGE;
    const wanted = new Set(types);
    // With the watch's count before the read: a move of the log after it ends the wait that follows.
    const read = (after: LogPosition) => ({
      since: watch.count,
      rows: store.readAllRaw(after, { limit, dataOf: types }),
    });
    // Past its batches' own moves, the position is saved at most every second while the group
    // reads, a second after it moved when the group then sleeps, and at stop, not after every page:
    // at 1,000 events a second a caught-up group reads a page every few ms, and a save each time was
    // a write in its loop. A crash redelivers what came after it, which the inbox drops.
    let saved = { position, at: performance.now() };
    const save = async () => {
      if (saved.position === position) return;
      await stored.advance(position);
      saved = { position, at: performance.now() };
    };

    /** The watch's count taken before the read that found nothing, while the group waits after it. */
    let idleSince: number | undefined;
    const sleep = async (since: number, timeoutMs?: number) => {
      idleSince = since;
      try {
        return await watch.wait(since, { maxMs, signal: abort.signal, timeoutMs });
      } finally {
        idleSince = undefined;
      }
    };

    const follow = async () => {
      let ahead: ReturnType<typeof read> | undefined;
      while (!abort.signal.aborted) {
        try {
          const { since, rows: reading } = ahead ?? read(position);
          const page = await reading;
          ahead = undefined;
          if (page.length === 0) {
            if (saved.position !== position) {
              const left = 1_000 - (performance.now() - saved.at);
              if (left > 0 && (await sleep(since, left))) continue;
              if (abort.signal.aborted) continue;
              await save();
            }
            await sleep(since);
            continue;
          }
          if (abort.signal.aborted) return;
          // A full page: the next one is read while the runner handles this one.
          const end = page[page.length - 1]!;
          if (page.length === limit) {
            ahead = read({ txId: end.tx_id, position: end.position });
            ahead.rows.catch(() => {}); // awaited next turn, or dropped with the batch that failed
          }
          const rows = page.filter((row) => wanted.has(row.type));
          const messages = rows.map((row) => toLocalCloudEvent(row, catalog.get(row.type).topic, mark));
          // The runner applies the batch in one transaction (one by one if something in it fails).
          const first = rows[0] && { txId: rows[0].tx_id, position: rows[0].position };
          const batch =
            ordered && first ? stored.batch(first, position, { txId: end.tx_id, position: end.position }) : undefined;
          const done = messages.length > 0 ? await runner.processBatch(messages, batch) : [];
          if (done.length < rows.length) {
            const handled = done.length > 0 ? rows[done.length - 1]! : undefined;
            if (handled) position = { txId: handled.tx_id, position: handled.position };
            return; // stopped in a retry wait: the rest is redelivered
          }
          position = { txId: end.tx_id, position: end.position };
          if (performance.now() - saved.at >= 1_000) await save();
        } catch (error) {
          // The store is unreachable, the position could not be saved, or another member of the
          // group has moved it: read on from the stored position (what is redelivered is dropped).
          ahead = undefined;
          if (!(error instanceof PositionTaken))
            log.error({ err: error, consumer: runner.name }, 'embedded bus: delivery failed; retrying');
          await new Promise((resolve) => setTimeout(resolve, error instanceof PositionTaken ? 0 : 1_000));
          position = await stored.load().catch(() => position);
          saved = { position, at: performance.now() };
        }
      }
    };
    const loop = async () => {
      try {
        await follow();
      } finally {
        await save().catch((error: unknown) =>
          log.error({ err: error, consumer: runner.name }, 'embedded bus: could not save the checkpoint at stop'),
        );
      }
    };
    const running = loop();

    const subscription: Subscription = {
      consumer: runner.name,
      caughtUp: () => idleSince === watch.count,
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
