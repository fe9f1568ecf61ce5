import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { Admin } from '@platformatic/kafka';
import { Kafka as CloudEventsKafka, type KafkaMessage } from 'cloudevents';
import { pino } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { seedEvents } from '../../domain/events/index.ts';
import { postgresAvailable, openTestPostgres } from '../../../test/support/postgres.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { EventCatalog } from '../catalog/catalog.ts';
import { systemClock } from '../clock.ts';
import type { ConsumerDefinition } from '../consumers/consumer.ts';
import { DeadLetterStore } from '../consumers/dead-letter-store.ts';
import { consumerMigrations } from '../consumers/migrations.ts';
import type { RetryPolicy } from '../consumers/retry-policy.ts';
import type { Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { createLogger, silentLogger } from '../logger.ts';

const testLog = process.env.TEST_LOG ? createLogger(process.env.TEST_LOG) : silentLogger;
import { consumerLag } from '../metrics.ts';
import { OutboxRelay } from '../outbox/outbox-relay.ts';
import { Checkpoints } from '../store/checkpoints.ts';
import { EventStore } from '../store/event-store.ts';
import { eventStoreMigrations } from '../store/migrations.ts';
import type { Subscription } from './bus.ts';
import { KafkaBus } from './kafka-bus.ts';
import { CountingRunner, customerRegistered } from '../../../test/support/kafka-test-events.ts';

const run = promisify(execFile);
const brokers = inject('kafkaBrokers');
const skip = !brokers || !(await postgresAvailable());
// kcat reads and writes as a librdkafka client would. CI installs it (.ci/run); elsewhere its tests
// are skipped with a warning when it is missing.
const kcatMissing = await run('kcat', ['-V']).then(
  () => false,
  () => true,
);
if (kcatMissing && process.env.REQUIRE_KAFKA === '1')
  throw new Error('REQUIRE_KAFKA=1 but kcat is not installed (apt-get install kcat)');
if (kcatMissing) console.warn('kcat is not installed: its Kafka client checks are skipped (apt-get install kcat)');
const withKcat = it.skipIf(kcatMissing);

const fastRetry: RetryPolicy = { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10 };

interface KcatMessage {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
  headers?: string[];
}

/** Reads a topic from the beginning as a real client does: kcat (librdkafka), JSON envelope with headers. */
const kcatRead = async (topic: string, count: number): Promise<KcatMessage[]> => {
  const { stdout } = await run(
    'kcat',
    ['-b', brokers!, '-C', '-t', topic, '-o', 'beginning', '-c', String(count), '-e', '-q', '-J'],
    { timeout: 30_000 },
  );
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as KcatMessage);
};

const headersOf = (message: KcatMessage): Record<string, string> => {
  const headers: Record<string, string> = {};
  const list = message.headers ?? [];
  for (let index = 0; index < list.length; index += 2) headers[list[index]!] = list[index + 1]!;
  return headers;
};

describe.skipIf(skip)('KafkaBus (Kafka + PostgreSQL)', () => {
  const prefix = `kb-${randomBytes(4).toString('hex')}.`;
  const catalog = new EventCatalog(seedEvents);
  let db: Database;
  let store: EventStore;
  let bus: KafkaBus;
  let relay: OutboxRelay;
  let deadLetters: DeadLetterStore;
  const running: Subscription[] = [];

  beforeAll(async () => {
    db = await openTestPostgres();
    await migrate(db, [...eventStoreMigrations, ...consumerMigrations]);
    await db.exec('create table effects (consumer text not null, event_id uuid not null, customer_id text not null)');
    store = new EventStore(db, catalog, systemClock);
    deadLetters = new DeadLetterStore(db, systemClock);
    bus = new KafkaBus({
      brokers: brokers!.split(','),
      clientId: 'kafka-bus-test',
      topicPrefix: prefix,
      catalog,
      log: testLog,
      sessionTimeoutMs: 10_000,
      maxWaitMs: 200,
    });
    await bus.start();
    relay = new OutboxRelay({ store, catalog, publisher: bus, clock: systemClock, log: testLog, batchSize: 100 });
  });

  afterAll(async () => {
    await Promise.all(running.map((subscription) => subscription.stop()));
    await bus?.close();
    const admin = new Admin({ clientId: 'kafka-bus-test-cleanup', bootstrapBrokers: brokers!.split(',') });
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
    const groups = [...(await admin.listGroups()).keys()].filter((group) => group.startsWith(prefix));
    if (groups.length > 0) await admin.deleteGroups({ groups }).catch(() => {});
    await admin.close();
    await db?.close();
  });

  const register = async () => {
    const customerId = uuidv7();
    const data = customerRegistered(customerId);
    const result = await store.append(`customer-${customerId}`, [{ type: 'CustomerRegistered', data }], {
      expectedVersion: 'no_stream',
    });
    return { customerId, data, eventId: result.events[0]!.id, streamId: result.streamId };
  };

  /** Runs the relay until every committed event is published (a consumer's open transaction can hide one for a moment). */
  const drain = async () => {
    const checkpoints = new Checkpoints(db, systemClock);
    for (;;) {
      if ((await relay.runOnce()) > 0) continue;
      if ((await store.countAfter(await checkpoints.load('relay'))) === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  const runnerFor = (consumer: ConsumerDefinition) =>
    new CountingRunner(consumer, {
      db,
      catalog,
      clock: systemClock,
      log: testLog,
      deadLetters,
      retry: fastRetry,
      publishDeadLetter: (name, message, error) => bus.publishDeadLetter(name, message, error),
    });

  const recorder = (name: string): ConsumerDefinition => ({
    name,
    topics: ['customer.registered'],
    async handle(event, { tx }) {
      await tx.query('insert into effects values ($1, $2, $3)', [
        name,
        event.id,
        (event.data as { customerId: string }).customerId,
      ]);
    },
  });

  const effects = async (consumer: string) =>
    (await db.query<{ event_id: string }>('select event_id from effects where consumer = $1', [consumer])).rows.map(
      (row) => row.event_id,
    );

  const registeredCount = async () =>
    (await db.query<{ n: number }>(`select count(*)::int8 as n from events where type = 'CustomerRegistered'`)).rows[0]!
      .n;

  withKcat('publishes a stored event as a CloudEvent in binary mode, keyed by the customer id', async () => {
    const customer = await register();
    await drain();
    const [message] = await kcatRead(`${prefix}customer.registered`, 1);
    expect(message).toBeDefined();
    const headers = headersOf(message!);
    expect(message!.key).toBe(customer.customerId);
    expect(headers).toMatchObject({
      ce_specversion: '1.0',
      ce_id: customer.eventId,
      ce_type: 'CustomerRegistered',
      ce_source: '/tributary',
      ce_subject: customer.streamId,
      'content-type': 'application/json',
      ce_schemaversion: String(catalog.get('CustomerRegistered').version),
      ce_streamversion: '1',
    });
    expect(JSON.parse(message!.payload!)).toEqual(customer.data);

    // The CloudEvents SDK's own Kafka binding reads it as the same event.
    const event = CloudEventsKafka.toEvent({
      headers,
      key: message!.key!,
      value: message!.payload!,
      body: message!.payload!,
    } as KafkaMessage<string>);
    expect(Array.isArray(event)).toBe(false);
    expect(event).toMatchObject({
      specversion: '1.0',
      id: customer.eventId,
      type: 'CustomerRegistered',
      source: '/tributary',
      subject: customer.streamId,
      datacontenttype: 'application/json',
      partitionkey: customer.customerId,
    });
  });

  withKcat('puts each key on the partition the Java client (murmur2) chooses', async () => {
    const customers = [];
    for (let n = 0; n < 24; n++) customers.push(await register());
    await drain();
    const total = await registeredCount();
    const relayed = new Map(
      (await kcatRead(`${prefix}customer.registered`, total)).map((message) => [message.key!, message.partition]),
    );
    expect(new Set(customers.map((customer) => relayed.get(customer.customerId))).size).toBeGreaterThan(1);

    // librdkafka's murmur2_random partitioner is the Java client's: kcat produces the same keys to a topic of the same size.
    await bus.ensureTopics(['partitioner-check']);
    const input = customers.map((customer) => `${customer.customerId}:x`).join('\n');
    await new Promise<void>((resolve, reject) => {
      const child = execFile(
        'kcat',
        ['-b', brokers!, '-P', '-t', `${prefix}partitioner-check`, '-K', ':', '-X', 'topic.partitioner=murmur2_random'],
        { timeout: 30_000 },
        (error) => (error ? reject(error) : resolve()),
      );
      child.stdin!.end(`${input}\n`);
    });
    const java = new Map(
      (await kcatRead(`${prefix}partitioner-check`, customers.length)).map((message) => [
        message.key!,
        message.partition,
      ]),
    );
    for (const customer of customers) expect(relayed.get(customer.customerId)).toBe(java.get(customer.customerId));
  });

  withKcat(
    'delivers from the earliest offset to a new group, commits after processing, resumes after stop, drops duplicates',
    async () => {
      const name = `welcome-${randomBytes(3).toString('hex')}`;
      const before = await register();
      await drain();
      const runner = runnerFor(recorder(name));
      const subscription = await bus.subscribe(runner);
      const total = await registeredCount();
      await waitFor(
        'the events published before the group existed',
        async () => (await effects(name)).length === total,
      );
      expect(await effects(name)).toContain(before.eventId);

      const after = await register();
      await drain();
      await waitFor('an event published while subscribed', async () => (await effects(name)).includes(after.eventId));
      await waitFor('lag 0', async () => (await subscription.lag()) === 0);
      const gauge = (await consumerLag.get()).values.find((value) => value.labels.consumer === name);
      expect(gauge?.value).toBe(0);

      // The event as delivered is the event as stored.
      const delivered = await db.query<{ n: number }>('select count(*)::int8 as n from inbox where consumer = $1', [
        name,
      ]);
      expect(delivered.rows[0]!.n).toBe(total + 1);

      await subscription.stop();
      // It left the group: a successor does not wait out the session timeout.
      const admin = new Admin({ clientId: 'kafka-bus-test-groups', bootstrapBrokers: brokers!.split(',') });
      const group = (await admin.describeGroups({ groups: [`${prefix}${name}`] })).get(`${prefix}${name}`);
      await admin.close();
      expect(group?.state).toBe('EMPTY');
      expect(group?.members.size).toBe(0);

      const third = await register();
      await drain();
      expect(await subscription.lag()).toBe(1);
      // Per partition: the one event waits on exactly one partition of its topic.
      const partitions = await subscription.lagByPartition!();
      expect(partitions.length).toBeGreaterThan(1);
      expect(partitions.filter((p) => p.lag > 0)).toEqual([
        { topic: expect.stringContaining('customer'), partition: expect.any(Number), lag: 1 },
      ]);

      // Kafka gets every event again (a relay restarted from an older checkpoint); the group resumes where it committed.
      const again = new OutboxRelay({
        store,
        catalog,
        publisher: bus,
        clock: systemClock,
        log: silentLogger,
        checkpoint: 'relay-again',
      });
      while ((await again.runOnce()) > 0);
      const successor = runnerFor(recorder(name));
      running.push(await bus.subscribe(successor));
      await waitFor('the event published while stopped', async () => (await effects(name)).includes(third.eventId));
      // From its committed offset: the third event, then all total + 2 again.
      await waitFor('the duplicates', () => successor.outcomes.length === total + 3);
      expect(successor.outcomes.filter((outcome) => outcome === 'processed')).toHaveLength(1);
      expect(successor.outcomes.filter((outcome) => outcome === 'duplicate')).toHaveLength(total + 2);
      const ids = await effects(name);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(total + 2);
    },
  );

  withKcat("sends what keeps failing to the consumer's dead-letter topic, with the error in a header", async () => {
    const name = `broken-${randomBytes(3).toString('hex')}`;
    const customer = await register();
    await drain();
    // Every message on the topic, duplicates included (the relay replay above), fails and is dead-lettered.
    const published = (await kcatRead(`${prefix}customer.registered`, 100_000)).length;
    const subscription = await bus.subscribe(
      runnerFor({
        name,
        topics: ['customer.registered'],
        async handle() {
          throw new Error('smtp: connection refused');
        },
      }),
    );
    await waitFor(
      'every message dead-lettered',
      async () => (await deadLetters.list({ consumer: name, limit: 100_000 })).length === published,
      30_000,
    );
    await subscription.stop();

    const letters = await kcatRead(`${prefix}${name}.dlq`, 100_000);
    expect(letters).toHaveLength(published);
    const letter = letters.find((message) => message.key === customer.customerId)!;
    const headers = headersOf(letter);
    expect(headers).toMatchObject({
      dlq_error: 'smtp: connection refused',
      dlq_consumer: name,
      dlq_original_topic: 'customer.registered',
      ce_id: customer.eventId,
      ce_type: 'CustomerRegistered',
    });
    expect(headers.dlq_original_partition).toMatch(/^\d+$/);
    expect(headers.dlq_original_offset).toMatch(/^\d+$/);
    expect(JSON.parse(letter.payload!)).toEqual(customer.data);
    const [original] = (await kcatRead(`${prefix}customer.registered`, published)).filter(
      (message) => message.key === customer.customerId,
    );
    expect(String(original!.partition)).toBe(headers.dlq_original_partition);
    expect(String(original!.offset)).toBe(headers.dlq_original_offset);
  });

  it('reports health, and retries with one clear log line per attempt while Kafka is unreachable', async () => {
    expect(await bus.healthy()).toBe(true);
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
        done();
      },
    });
    const down = new KafkaBus({
      brokers: ['127.0.0.1:1'],
      clientId: 'kafka-bus-down',
      catalog,
      log: pino(sink),
      retryDelayMs: 50,
      maxRetryDelayMs: 100,
    });
    const starting = down.start();
    await waitFor('two attempts logged', () => lines.filter((line) => line.level === 50).length >= 2, 30_000);
    expect(await down.healthy()).toBe(false);
    await down.close();
    await starting; // resolves once closed: no throw, no crash loop
    const failure = lines.find((line) => line.level === 50)!;
    expect(failure.msg).toBe('kafka: brokers unreachable or topics not created; retrying');
    expect(String(failure.reason)).toMatch(/ECONNREFUSED|Connection/i);
    expect(failure).not.toHaveProperty('err');
    expect(failure).toHaveProperty('retryInMs');
  });
});
