import type { PartitionLag, Subscription } from '../../kernel/bus/bus.ts';
import type { EventCatalog } from '../../kernel/catalog/catalog.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Database } from '../../kernel/db/database.ts';

/** The producing service of a topic: the aggregate its events belong to (customers are created by registration). */
export const producerOf = (topic: string): string => {
  const area = topic.split('.')[0]!;
  return area === 'customer' ? 'registration' : area;
};

export interface ConsumerWiring {
  name: string;
  topics: string[];
}

export interface ConsumerStatus extends ConsumerWiring {
  lag: number | null;
  partitions: PartitionLag[] | null;
  deadLetters: number;
  checkpoint: { position: number; updatedAt: string } | null;
}

const RATE_WINDOW_SECONDS = 60;
const RATE_SAMPLE = 5_000;

/** The platform's wiring (the catalog's topics, the consumers it runs) with live figures. */
export class EventFlow {
  constructor(
    private readonly deps: {
      db: Database;
      clock: Clock;
      catalog: EventCatalog;
      consumers: readonly ConsumerWiring[];
      /** Filled as the bus subscribes each consumer. */
      subscriptions: readonly Subscription[];
    },
  ) {}

  /** Topics that at least one consumer reads, with their producer and event types. */
  topics(): { name: string; producer: string; eventTypes: string[] }[] {
    const consumed = new Set(this.deps.consumers.flatMap((consumer) => consumer.topics));
    return this.deps.catalog
      .topics()
      .filter((topic) => consumed.has(topic))
      .map((name) => ({ name, producer: producerOf(name), eventTypes: this.deps.catalog.typesOf([name]) }));
  }

  /** Events per topic over the last minute of platform time (from the newest events only: an index scan). */
  async rates(): Promise<Map<string, number>> {
    const since = new Date(this.deps.clock.now().getTime() - RATE_WINDOW_SECONDS * 1000);
    const { rows } = await this.deps.db.query<{ type: string; n: number }>(
      `select type, count(*)::int as n from (select type, occurred_at from events order by position desc limit $1) recent
       where occurred_at > $2 group by type`,
      [RATE_SAMPLE, since],
    );
    const byType = new Map(rows.map((row) => [row.type, Number(row.n)]));
    return new Map(
      this.deps.catalog
        .topics()
        .map((topic) => [
          topic,
          this.deps.catalog.typesOf([topic]).reduce((sum, type) => sum + (byType.get(type) ?? 0), 0),
        ]),
    );
  }

  async consumers(): Promise<ConsumerStatus[]> {
    const [letters, checkpoints, lags] = await Promise.all([
      this.deps.db.query<{ consumer: string; n: number }>(
        'select consumer, count(*)::int as n from dead_letters where replayed_at is null group by consumer',
      ),
      this.deps.db.query<{ name: string; position: number; updated_at: Date }>(
        "select name, position, updated_at from checkpoints where name like 'consumer:%'",
      ),
      Promise.all(this.deps.subscriptions.map(async (s) => [s.consumer, await lagOf(s)] as const)),
    ]);
    const lagsOf = new Map(lags);
    const lettersOf = new Map(letters.rows.map((row) => [row.consumer, Number(row.n)]));
    const checkpointOf = new Map(checkpoints.rows.map((row) => [row.name.slice('consumer:'.length), row]));
    return this.deps.consumers.map(({ name, topics }) => {
      const checkpoint = checkpointOf.get(name);
      return {
        name,
        topics,
        lag: lagsOf.get(name)?.lag ?? null,
        partitions: lagsOf.get(name)?.partitions ?? null,
        deadLetters: lettersOf.get(name) ?? 0,
        checkpoint: checkpoint
          ? { position: Number(checkpoint.position), updatedAt: checkpoint.updated_at.toISOString() }
          : null,
      };
    });
  }
}

/** A subscription's lag, and per partition where the bus has them; nulls when the bus cannot say now. */
async function lagOf(subscription: Subscription): Promise<{ lag: number | null; partitions: PartitionLag[] | null }> {
  if (!subscription.lagByPartition) return { lag: await subscription.lag().catch(() => null), partitions: null };
  const partitions = await subscription.lagByPartition().catch(() => null);
  return { lag: partitions ? partitions.reduce((sum, p) => sum + p.lag, 0) : null, partitions };
}

export const RATE_WINDOW = RATE_WINDOW_SECONDS;
