import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin } from '@platformatic/kafka';
import pg from 'pg';
import { inject } from 'vitest';
import type { BusMessage } from '../../src/kernel/bus/message.ts';
import { loadConfig } from '../../src/kernel/config.ts';
import { ConsumerRunner } from '../../src/kernel/consumers/consumer-runner.ts';
import { silentLogger } from '../../src/kernel/logger.ts';
import { startPlatform, type Platform, type PlatformOptions } from '../../src/platform.ts';
import { postgresAvailable, TEST_DATABASE_URL, uniqueName } from './postgres.ts';

export type Mode = 'embedded' | 'distributed';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface PlatformFixture {
  platform: Platform;
  /** Every message the bus delivered to a watcher subscribed to all topics. */
  delivered: BusMessage[];
  close(): Promise<void>;
}

/**
 * The platform in this process, on PGlite + the embedded bus or on PostgreSQL + Kafka (a schema
 * and a topic prefix of its own), with a watcher on every topic. Null when the mode cannot run here.
 */
export async function openPlatform(
  mode: Mode,
  env: Record<string, string> = {},
  options: PlatformOptions = {},
): Promise<PlatformFixture | null> {
  const cleanups: (() => Promise<void>)[] = [];
  let modeEnv: Record<string, string>;
  if (mode === 'embedded') {
    const dataDir = await mkdtemp(join(tmpdir(), 'tributary-test-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    modeEnv = { DATA_DIR: dataDir };
  } else {
    const brokers = inject('kafkaBrokers');
    if (!brokers || !(await postgresAvailable())) return null;
    const schema = uniqueName('p');
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    const prefix = `${uniqueName('it')}.`;
    cleanups.push(async () => {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`drop schema if exists ${schema} cascade`);
      // the views live in schemas named after it (customer_view → <schema>_customer_view)
      const { rows } = await client.query<{ name: string }>(
        'select schema_name as name from information_schema.schemata where schema_name like $1',
        [`${schema}\\_%`],
      );
      for (const { name } of rows) await client.query(`drop schema if exists ${name} cascade`);
      await client.end();
      const kafka = new Admin({ clientId: 'fixture-cleanup', bootstrapBrokers: brokers.split(',') });
      const topics = (await kafka.listTopics()).filter((topic) => topic.startsWith(prefix));
      if (topics.length) await kafka.deleteTopics({ topics }).catch(() => {});
      await kafka.close();
    });
    modeEnv = {
      DATABASE_URL: `${TEST_DATABASE_URL}?options=-c%20search_path%3D${schema}`,
      KAFKA_BROKERS: brokers,
      KAFKA_TOPIC_PREFIX: prefix,
      CLOCK: 'test',
    };
  }
  const config = loadConfig({
    ADMIN_TOKEN,
    REGISTER_RATE_LIMIT: '100000',
    LOG_LEVEL: 'silent',
    CLOCK_ADVANCE_WAIT_MS: '300000',
    ...modeEnv,
    ...env,
  });
  const platform = await startPlatform(config, { log: silentLogger, consumers: [], ...options });
  await platform.started;
  // These tests compare times to the clock's: it stands still between advances unless they unfreeze it.
  await platform.clockService?.freeze();
  const delivered: BusMessage[] = [];
  const watcher = new ConsumerRunner(
    { name: 'test-watcher', topics: platform.catalog.topics(), handle: async () => {} },
    {
      db: platform.db,
      catalog: platform.catalog,
      clock: platform.clock,
      log: silentLogger,
      deadLetters: platform.deadLetters,
      retry: config.retry,
    },
  );
  // The buses hand messages over one at a time or in batches (a batch may fall back to one at a
  // time): the watcher records each event once.
  const seen = new Set<string>();
  const record = (message: BusMessage) => {
    const id = `${message.topic}:${message.headers.ce_id ?? message.value}`;
    if (seen.has(id)) return;
    seen.add(id);
    delivered.push(message);
  };
  const process = watcher.process.bind(watcher);
  watcher.process = (message) => (record(message), process(message));
  const processBatch = watcher.processBatch.bind(watcher);
  watcher.processBatch = (messages) => (messages.forEach(record), processBatch(messages));
  const subscription = await platform.bus.subscribe(watcher);
  return {
    platform,
    delivered,
    async close() {
      await subscription.stop();
      await platform.stop();
      for (const cleanup of cleanups) await cleanup();
    },
  };
}
