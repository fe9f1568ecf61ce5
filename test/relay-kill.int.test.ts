import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin, ListOffsetTimestamps } from '@platformatic/kafka';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { seedEvents } from '../src/domain/events/index.ts';
import type { Subscription } from '../src/kernel/bus/bus.ts';
import { KafkaBus } from '../src/kernel/bus/kafka-bus.ts';
import { EventCatalog } from '../src/kernel/catalog/catalog.ts';
import { systemClock } from '../src/kernel/clock.ts';
import { DeadLetterStore } from '../src/kernel/consumers/dead-letter-store.ts';
import { consumerMigrations } from '../src/kernel/consumers/migrations.ts';
import { migrate } from '../src/kernel/db/migrate.ts';
import { silentLogger } from '../src/kernel/logger.ts';
import { Checkpoints } from '../src/kernel/store/checkpoints.ts';
import { EventStore } from '../src/kernel/store/event-store.ts';
import { eventStoreMigrations } from '../src/kernel/store/migrations.ts';
import { openTestPostgres, postgresAvailable, TEST_DATABASE_URL } from './support/postgres.ts';
import { waitFor } from './support/wait-for.ts';
import { CountingRunner, customerRegistered } from './support/kafka-test-events.ts';

const brokers = inject('kafkaBrokers');
const skip = !brokers || !(await postgresAvailable());

const TOTAL = 2_000;
const PER_TRANSACTION = 20;
const RELAY_BATCH = 100;

describe.skipIf(skip)('the outbox relay killed mid-stream (PostgreSQL + Kafka)', () => {
  const prefix = `rk-${randomBytes(4).toString('hex')}.`;
  const catalog = new EventCatalog(seedEvents);
  let db: Awaited<ReturnType<typeof openTestPostgres>>;
  let store: EventStore;
  let bus: KafkaBus;
  let subscription: Subscription | undefined;
  const relays: ChildProcess[] = [];
  const relayOutput: string[] = [];

  beforeAll(async () => {
    db = await openTestPostgres();
    await migrate(db, [...eventStoreMigrations, ...consumerMigrations]);
    await db.exec('create table welcome_effects (event_id uuid not null, customer_id uuid not null)');
    store = new EventStore(db, catalog, systemClock);
    bus = new KafkaBus({
      brokers: brokers!.split(','),
      clientId: 'relay-kill-test',
      topicPrefix: prefix,
      catalog,
      log: silentLogger,
      sessionTimeoutMs: 10_000,
      maxWaitMs: 200,
    });
    await bus.start();
  });

  afterAll(async () => {
    for (const relay of relays) if (relay.exitCode === null && relay.signalCode === null) relay.kill('SIGKILL');
    await subscription?.stop();
    await bus?.close();
    const admin = new Admin({ clientId: 'relay-kill-cleanup', bootstrapBrokers: brokers!.split(',') });
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
    await admin.deleteGroups({ groups: [`${prefix}welcome-kill`] }).catch(() => {});
    await admin.close();
    await db?.close();
  });

  /** The relay as its own process: node itself (not npx), so SIGKILL hits the relay and nothing else. */
  const startRelay = (): ChildProcess => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/platform/relay-process.ts'], {
      env: {
        ...process.env,
        DATABASE_URL: TEST_DATABASE_URL,
        DB_SCHEMA: db.schema,
        KAFKA_BROKERS: brokers!,
        KAFKA_TOPIC_PREFIX: prefix,
        RELAY_BATCH_SIZE: String(RELAY_BATCH),
        RELAY_POLL_MS: '50',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk) => relayOutput.push(String(chunk)));
    child.stderr!.on('data', (chunk) => relayOutput.push(String(chunk)));
    relays.push(child);
    return child;
  };

  const count = async (sql: string) => (await db.query<{ n: number }>(sql)).rows[0]!.n;

  const kafkaMessages = async (): Promise<number> => {
    const admin = new Admin({ clientId: 'relay-kill-offsets', bootstrapBrokers: brokers!.split(',') });
    try {
      const topic = `${prefix}customer.registered`;
      const metadata = await admin.metadata({ topics: [topic] });
      const partitions = Array.from({ length: metadata.topics.get(topic)!.partitionsCount }, (_, partitionIndex) => ({
        partitionIndex,
        timestamp: ListOffsetTimestamps.LATEST,
      }));
      const [listed] = await admin.listOffsets({ topics: [{ name: topic, partitions }] });
      return listed!.partitions.reduce((sum, partition) => sum + Number(partition.offset), 0);
    } finally {
      await admin.close();
    }
  };

  it('delivers every event to the consumer group after a SIGKILL, each effect exactly once', async () => {
    const runner = new CountingRunner(
      {
        name: 'welcome-kill',
        topics: ['customer.registered'],
        async handle(event, { tx }) {
          await tx.query('insert into welcome_effects values ($1, $2)', [
            event.id,
            (event.data as { customerId: string }).customerId,
          ]);
        },
      },
      {
        db,
        catalog,
        clock: systemClock,
        log: silentLogger,
        deadLetters: new DeadLetterStore(db, systemClock),
        retry: { maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 100 },
      },
    );
    subscription = await bus.subscribe(runner);

    const first = startRelay();
    let appended = 0;
    // The writer stops halfway until the kill: it is mid-stream then however fast the appends are.
    let killed = () => {};
    const afterKill = new Promise<void>((resolve) => (killed = resolve));
    const writing = (async () => {
      while (appended < TOTAL) {
        if (appended === TOTAL / 2) await afterKill;
        const appends = Array.from({ length: PER_TRANSACTION }, () => {
          const customerId = uuidv7();
          const data = customerRegistered(customerId);
          return {
            streamId: `customer-${customerId}`,
            events: [{ type: 'CustomerRegistered', data }],
            expectedVersion: 'no_stream' as const,
          };
        });
        await store.appendMany(appends);
        appended += PER_TRANSACTION;
        await sleep(40);
      }
    })();

    await waitFor(
      'the relay to be publishing',
      async () => (await count('select count(*)::int8 as n from welcome_effects')) >= 300,
      30_000,
    );
    first.kill('SIGKILL');
    await once(first, 'exit');
    killed();
    expect(first.signalCode).toBe('SIGKILL');
    const checkpoints = new Checkpoints(db, systemClock);
    const atKill = await checkpoints.load('relay');
    const publishedAtKill = appended - (await store.countAfter(atKill));
    expect(appended).toBeLessThan(TOTAL); // mid-stream: the writer is still going

    // A SIGKILL lands between a batch's produce and its checkpoint only by luck (a window of a few
    // ms), so the test also puts the store where such a kill leaves it: the checkpoint one batch
    // back, behind events Kafka already has. The restarted relay must publish them again.
    const { rows } = await db.query<{ tx_id: string; position: number }>(
      `select tx_id::text, position from events where (tx_id, position) <= ($1::xid8, $2::bigint)
       order by tx_id desc, position desc offset $3 limit 1`,
      [atKill.txId, atKill.position, RELAY_BATCH],
    );
    expect(rows).toHaveLength(1);
    await checkpoints.save('relay', { txId: rows[0]!.tx_id, position: rows[0]!.position });

    const second = startRelay();
    await writing;
    await waitFor(
      `all ${TOTAL} effects`,
      async () => (await count('select count(*)::int8 as n from welcome_effects')) >= TOTAL,
      60_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\nrelay output:\n${relayOutput.join('')}`);
    });
    await waitFor(
      'the consumer to have read everything relayed',
      async () => (await subscription!.lag()) === 0,
      20_000,
    );

    second.kill('SIGTERM');
    const [code] = (await once(second, 'exit')) as [number | null];
    expect(code).toBe(0); // a clean stop on SIGTERM
    expect(await store.countAfter(await checkpoints.load('relay'))).toBe(0);

    expect(await count('select count(*)::int8 as n from welcome_effects')).toBe(TOTAL);
    expect(await count('select count(distinct event_id)::int8 as n from welcome_effects')).toBe(TOTAL);
    expect(await count(`select count(*)::int8 as n from events e join welcome_effects w using (event_id)`)).toBe(TOTAL);
    expect(await count(`select count(*)::int8 as n from inbox where consumer = 'welcome-kill'`)).toBe(TOTAL);

    // Kafka holds the rewound batch twice, and perhaps the batch in flight at the kill, never more:
    // the relay restarted from its checkpoint, not from the start.
    const onKafka = await kafkaMessages();
    expect(onKafka - TOTAL).toBeGreaterThanOrEqual(RELAY_BATCH);
    expect(onKafka - TOTAL).toBeLessThanOrEqual(2 * RELAY_BATCH);
    expect(runner.outcomes.filter((outcome) => outcome === 'processed')).toHaveLength(TOTAL);
    expect(runner.outcomes.filter((outcome) => outcome === 'duplicate')).toHaveLength(onKafka - TOTAL);
    console.info(
      `relay-kill: killed with ~${publishedAtKill} events published; Kafka holds ${onKafka} messages for ${TOTAL} events (${onKafka - TOTAL} duplicates dropped by the inbox)`,
    );
  });
});
