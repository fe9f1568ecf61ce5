/**
 * The outbox relay as its own process: `npx tsx src/kernel/outbox/relay-process.ts`.
 *
 * Env: DATABASE_URL (required), DB_SCHEMA (optional, tests), KAFKA_BROKERS (127.0.0.1:9092),
 * KAFKA_TOPIC_PREFIX (''), KAFKA_PARTITIONS (3), RELAY_BATCH_SIZE (500), RELAY_POLL_MS (200),
 * LOG_LEVEL (info). SIGTERM or SIGINT: finishes the batch in hand, saves the checkpoint, exits 0.
 */
import { EventCatalog } from '../catalog/catalog.ts';
import { systemClock } from '../clock.ts';
import { consumerMigrations } from '../consumers/migrations.ts';
import type { Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { openPostgres } from '../db/postgres.ts';
import { KafkaBus } from '../bus/kafka-bus.ts';
import { createLogger } from '../logger.ts';
import { EventStore } from '../store/event-store.ts';
import { eventStoreMigrations } from '../store/migrations.ts';
import { seedEvents } from '../../domain/events/index.ts';
import { OutboxRelay } from './outbox-relay.ts';

interface RelayConfig {
  databaseUrl: string;
  dbSchema: string | undefined;
  brokers: string[];
  topicPrefix: string;
  partitions: number;
  batchSize: number;
  pollIntervalMs: number;
  logLevel: string;
}

const positiveInt = (name: string, value: string | undefined, fallback: number): number => {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new Error(`${name} must be a positive integer, got ${value}`);
  return parsed;
};

const readConfig = (env: NodeJS.ProcessEnv): RelayConfig => {
  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is required: the relay reads the PostgreSQL event store');
  return {
    databaseUrl: env.DATABASE_URL,
    dbSchema: env.DB_SCHEMA || undefined,
    brokers: (env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((broker) => broker.trim()).filter(Boolean),
    topicPrefix: env.KAFKA_TOPIC_PREFIX ?? '',
    partitions: positiveInt('KAFKA_PARTITIONS', env.KAFKA_PARTITIONS, 3),
    batchSize: positiveInt('RELAY_BATCH_SIZE', env.RELAY_BATCH_SIZE, 500),
    pollIntervalMs: positiveInt('RELAY_POLL_MS', env.RELAY_POLL_MS, 200),
    logLevel: env.LOG_LEVEL ?? 'info',
  };
};

async function main(): Promise<void> {
  const log = createLogger(process.env.LOG_LEVEL ?? 'info').child({ process: 'relay' });
  let config: RelayConfig;
  try {
    config = readConfig(process.env);
  } catch (error) {
    log.fatal((error as Error).message);
    process.exit(2);
  }

  let db: Database | undefined;
  let bus: KafkaBus | undefined;
  let relay: OutboxRelay | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'relay: stopping');
    await relay?.stop();
    await bus?.close();
    await db?.close();
    log.info('relay: stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  try {
    db = await openPostgres({ url: config.databaseUrl, schema: config.dbSchema, poolSize: 4 });
    await migrate(db, [...eventStoreMigrations, ...consumerMigrations]);
  } catch (error) {
    log.fatal({ reason: (error as Error).message }, 'relay: cannot open the event store');
    process.exit(1);
  }
  const catalog = new EventCatalog(seedEvents);
  const store = new EventStore(db, catalog, systemClock);
  bus = new KafkaBus({
    brokers: config.brokers,
    clientId: 'tributary-relay',
    topicPrefix: config.topicPrefix,
    partitions: config.partitions,
    catalog,
    log,
  });
  // Waits (retrying, logging) until Kafka answers and the topics exist; SIGTERM meanwhile ends it.
  await bus.start();
  if (stopping) return;
  relay = new OutboxRelay({
    store,
    catalog,
    publisher: bus,
    clock: systemClock,
    log,
    batchSize: config.batchSize,
    pollIntervalMs: config.pollIntervalMs,
  });
  await relay.start();
  log.info({ brokers: config.brokers, topicPrefix: config.topicPrefix }, 'relay: publishing the event store to Kafka');
}

await main();
