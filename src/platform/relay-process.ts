/**
 * The outbox relay as its own process: `npx tsx src/platform/relay-process.ts`.
 *
 * Reads the platform configuration (DATABASE_URL and KAFKA_BROKERS required; KAFKA_TOPIC_PREFIX,
 * KAFKA_PARTITIONS, KAFKA_REPLICATION_FACTOR, DATABASE_POOL_SIZE, LOG_LEVEL), plus two knobs for
 * tests: DB_SCHEMA (the schema to use) and RELAY_BATCH_SIZE (events per produce, default 500).
 * Waits for PostgreSQL and Kafka while they are unreachable (a log line per attempt). SIGTERM or
 * SIGINT: finishes the batch in hand, saves the checkpoint, exits 0.
 */
import { seedEvents } from '../domain/events/index.ts';
import { KafkaBus } from '../kernel/bus/kafka-bus.ts';
import { EventCatalog } from '../kernel/catalog/catalog.ts';
import { systemClock } from '../kernel/clock.ts';
import { ConfigError } from '../kernel/config-error.ts';
import { loadConfig, type Config } from '../kernel/config.ts';
import { consumerMigrations } from '../kernel/consumers/migrations.ts';
import { migrate } from '../kernel/db/migrate.ts';
import { openPostgres } from '../kernel/db/postgres.ts';
import { createLogger } from '../kernel/logger.ts';
import { OutboxRelay } from '../kernel/outbox/outbox-relay.ts';
import { retryForever } from '../kernel/retry-forever.ts';
import { EventStore } from '../kernel/store/event-store.ts';
import { eventStoreMigrations } from '../kernel/store/migrations.ts';
import { whileHolding } from '../kernel/db/try-lock.ts';

interface RelayConfig {
  databaseUrl: string;
  databasePoolSize: number;
  kafka: NonNullable<Config['kafka']>;
  logLevel: string;
  schema: string | undefined;
  batchSize: number;
}

function loadRelayConfig(): RelayConfig {
  const config = loadConfig();
  if (!config.databaseUrl) throw new ConfigError('the relay needs DATABASE_URL: it reads the PostgreSQL event store');
  if (!config.kafka) throw new ConfigError('the relay needs KAFKA_BROKERS: it publishes to Kafka');
  // Test-only knobs, not platform configuration (hence not in config.ts's list).
  // eslint-disable-next-line no-restricted-properties
  const { DB_SCHEMA: schema, RELAY_BATCH_SIZE: batch } = process.env;
  if (schema && !/^[a-z_][a-z0-9_]*$/.test(schema))
    throw new ConfigError(`invalid configuration: DB_SCHEMA=${JSON.stringify(schema)}: not a schema name`);
  const batchSize = batch ? Number(batch) : 500;
  if (!Number.isInteger(batchSize) || batchSize <= 0)
    throw new ConfigError(
      `invalid configuration: RELAY_BATCH_SIZE=${JSON.stringify(batch)}: must be a positive integer`,
    );
  return {
    databaseUrl: config.databaseUrl,
    databasePoolSize: Math.min(config.databasePoolSize, 4),
    kafka: config.kafka,
    logLevel: config.logLevel,
    schema: schema || undefined,
    batchSize,
  };
}

async function main(): Promise<void> {
  let config: RelayConfig;
  try {
    config = loadRelayConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    createLogger().fatal(error.message);
    process.exit(2);
  }
  const log = createLogger(config.logLevel).child({ process: 'relay' });
  const catalog = new EventCatalog(seedEvents);
  const db = await openPostgres({ url: config.databaseUrl, schema: config.schema, poolSize: config.databasePoolSize });
  const store = new EventStore(db, catalog, systemClock);
  const bus = new KafkaBus({ ...config.kafka, clientId: 'tributary-relay', catalog, log });
  const relay = new OutboxRelay({
    store,
    catalog,
    publisher: bus,
    clock: systemClock,
    log,
    batchSize: config.batchSize,
    leader: (work) => whileHolding(db, 'tributary.relay', work),
  });
  const shutdown = new AbortController();
  const stopFollowing = store.followCommits();

  let stopping: Promise<void> | undefined;
  const stop = (signal: string) => {
    stopping ??= (async () => {
      log.info({ signal }, 'relay: stopping');
      shutdown.abort();
      await relay.stop(); // the batch in hand is published and checkpointed
      await bus.close(); // also ends a start still waiting for Kafka
      await stopFollowing();
      await db.close();
      log.info('relay: stopped');
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  try {
    await retryForever(
      'relay: database migration',
      () => migrate(db, [...eventStoreMigrations, ...consumerMigrations]),
      log,
      shutdown.signal,
    );
  } catch (error) {
    if (shutdown.signal.aborted) return;
    throw error;
  }
  await bus.start(); // waits, retrying, until Kafka answers and the topics exist
  if (shutdown.signal.aborted) return;
  await relay.start();
  log.info(
    { brokers: config.kafka.brokers, topicPrefix: config.kafka.topicPrefix },
    'relay: publishing the event store to Kafka',
  );
}

await main();
