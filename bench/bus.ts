/**
 * Bus latency and consumer throughput, each figure beside a baseline measured in the same run:
 * `npm run bench:bus`.
 *
 * - Latency, paced appends → ConsumerRunner handler: Kafka (relay, KafkaBus) vs a bare producer →
 *   bare consumer; embedded (PostgreSQL, PGlite) vs the append's own commit.
 * - Throughput of a new consumer group reading pre-produced events: KafkaBus + ConsumerRunner vs a
 *   bare Consumer; EmbeddedBus + ConsumerRunner vs raw SELECT pages.
 *
 * Kafka: KAFKA_BROKERS (127.0.0.1:9092; `npm run kafka:start`), topics and groups under a random
 * prefix, deleted after. PostgreSQL: TEST_DATABASE_URL, a fresh schema per store, dropped after.
 * `--only kafka,postgresql,pglite` runs some of the phases, `--part latency|throughput` one half of
 * each; `--json FILE` writes the results.
 * Progress goes to stderr (BENCH_QUIET=1 hides it); BENCH_LOG=info shows the kernel's logs.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Admin,
  compatibilityPartitioner,
  Consumer,
  ProduceAcks,
  Producer,
  stringDeserializers,
  stringSerializers,
  type Message,
  type MessageToProduce,
} from '@platformatic/kafka';
import { v7 as uuidv7 } from 'uuid';
import type { Bus } from '../src/kernel/bus/bus.ts';
import { fromCloudEvent, toCloudEvent } from '../src/kernel/bus/cloudevent.ts';
import { EMBEDDED_PAGE, EmbeddedBus } from '../src/kernel/bus/embedded-bus.ts';
import { KafkaBus } from '../src/kernel/bus/kafka-bus.ts';
import { systemClock } from '../src/kernel/clock.ts';
import { defineConsumer } from '../src/kernel/consumers/consumer.ts';
import { ConsumerRunner } from '../src/kernel/consumers/consumer-runner.ts';
import { DeadLetterStore } from '../src/kernel/consumers/dead-letter-store.ts';
import { consumerMigrations } from '../src/kernel/consumers/migrations.ts';
import { defaultRetryPolicy } from '../src/kernel/consumers/retry-policy.ts';
import type { Database } from '../src/kernel/db/database.ts';
import { migrate } from '../src/kernel/db/migrate.ts';
import { openPglite } from '../src/kernel/db/pglite.ts';
import { createLogger, silentLogger } from '../src/kernel/logger.ts';
import { OutboxRelay } from '../src/kernel/outbox/outbox-relay.ts';
import { LOG_START } from '../src/kernel/store/envelope.ts';
import { EventStore } from '../src/kernel/store/event-store.ts';
import { eventStoreMigrations } from '../src/kernel/store/migrations.ts';
import { openTestPostgres } from '../test/support/postgres.ts';
import { OtherThingHappened, testCatalog, thing, ThingHappened } from '../test/support/test-catalog.ts';
import {
  argOf,
  fmtInt,
  fmtMs,
  fmtRatio,
  machine,
  paced,
  percentile,
  printTable,
  progress,
  rate,
  until,
  verdict,
  writeJson,
} from './support.ts';

const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const PREFIX = `bench-${randomBytes(4).toString('hex')}.`;
const log = process.env.BENCH_LOG ? createLogger(process.env.BENCH_LOG) : silentLogger;
/** Paced runs: the goal's rate, and a light load the pipeline keeps up with. */
const RATE = 1_000;
const LIGHT_RATE = 200;
const KAFKA_MS = 10_000;
const EMBEDDED_MS = 5_000;
const LIGHT_MS = 5_000;
const WARMUP_MS = 1_000;
const P99_GOAL_MS = 50;
const EMBEDDED_P99_GOAL_MS = 100;
/** The bare producer's linger (linger.ms): how long it waits to fill a batch. */
const LINGER_MS = 5;
const THROUGHPUT_GOAL = 0.8;
const EMBEDDED_THROUGHPUT_GOAL = 0.5;
const TOPIC = ThingHappened.topic;
/**
 * Kafka's throughput half reads a topic of its own, which the relay fills in large batches: after
 * the latency half, the latency topic starts with thousands of one-event batches, which slow the
 * bare consumer (not the runner) and made the ratio depend on what ran before.
 */
const THROUGHPUT_TOPIC = OtherThingHappened.topic;
const otherThing = (customerId: string) => ({ type: OtherThingHappened.type, data: { customerId } });
const ROUNDS = 2;
/** A throughput run stops this long after its first event. */
const THROUGHPUT_CAP_MS = 4_000;
/** Events appended after the latency runs, so that the throughput runs have enough to read. */
const THROUGHPUT_EVENTS = 30_000;
/** `--part latency|throughput`: one half of each phase (both by default). */
const PART = argOf('part');
if (PART !== undefined && PART !== 'latency' && PART !== 'throughput')
  throw new Error(`--part is latency or throughput, not ${PART}`);
const LATENCY = PART !== 'throughput';
const THROUGHPUT = PART !== 'latency';

// ---------------------------------------------------------------------------------------------
// Latency: send times kept by event id; the handler notes the receive time.

class Probe {
  readonly sent = new Map<string, number>();
  readonly latencies: number[] = [];
  /** Due → the append resolved (committed), per event. */
  readonly commits: number[] = [];
  firstSent = NaN;
  lastReceived = 0;

  /** Notes an event sent (due) at `at`. */
  send(id: string, at: number): void {
    if (Number.isNaN(this.firstSent)) this.firstSent = at;
    this.sent.set(id, at);
  }

  received(id: string): void {
    const sentAt = this.sent.get(id);
    if (sentAt === undefined) return; // a redelivery, or not ours
    this.sent.delete(id);
    this.lastReceived = performance.now();
    this.latencies.push(this.lastReceived - sentAt);
  }

  reset(): void {
    this.latencies.length = 0;
    this.commits.length = 0;
    this.firstSent = NaN;
  }
}

interface Latency {
  events: number;
  deliveredPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
}

const summarize = (values: readonly number[], events: number, ms: number): Latency => ({
  events,
  deliveredPerSecond: rate(events, ms),
  p50: percentile(values, 0.5),
  p95: percentile(values, 0.95),
  p99: percentile(values, 0.99),
});

/** `send(i)` at `perSecond`: a warm-up second, then `durationMs` measured; waits until all are received. */
async function pacedRun(
  label: string,
  probe: Probe,
  perSecond: number,
  durationMs: number,
  send: (index: number, dueAt: number) => Promise<unknown>,
): Promise<{ delivered: Latency; commits: Latency }> {
  let next = 0;
  const phase = async (ms: number) => {
    const pending: Promise<unknown>[] = [];
    await paced(perSecond, ms, (_, dueAt) => {
      const sent = send(next++, dueAt);
      // Handled here too: a failure before Promise.all below must fail the bench through its cleanup, not crash it.
      sent.catch(() => {});
      pending.push(sent);
    });
    await Promise.all(pending);
    await until('every event delivered', () => probe.sent.size === 0, 120_000);
  };
  probe.reset();
  await phase(WARMUP_MS);
  probe.reset();
  await phase(durationMs);
  const events = probe.latencies.length;
  const delivered = summarize(probe.latencies, events, probe.lastReceived - probe.firstSent);
  progress(
    `${label} at ${perSecond}/s: ${events} events, ${fmtInt(delivered.deliveredPerSecond)}/s delivered, ` +
      `p50 ${fmtMs(delivered.p50)} ms, p99 ${fmtMs(delivered.p99)} ms`,
  );
  return { delivered, commits: summarize(probe.commits, probe.commits.length, durationMs) };
}

/** Appends one ThingHappened to a stream of its own, noting when it was due and when it committed. */
const appendProbed = (store: EventStore, probe: Probe, tag: string) => async (index: number, dueAt: number) => {
  const id = uuidv7();
  probe.send(id, dueAt);
  await store.append(`${tag}-${index}`, [{ id, ...thing(`c${index % 100}`, index) }]);
  probe.commits.push(performance.now() - dueAt);
};

// ---------------------------------------------------------------------------------------------
// Throughput: events per second from the first message received to the last.

interface Consumed {
  events: number;
  perSecond: number;
}

/**
 * Consumes up to `events` events, or for THROUGHPUT_CAP_MS after the first one, whichever comes first.
 * The check runs in the handler, not on a timer: a PGlite consumer with a backlog starves the timers.
 */
async function consumeRate(
  events: number,
  start: (tick: () => void) => Promise<() => Promise<void>>,
): Promise<Consumed> {
  let count = 0;
  let first = 0;
  let last = 0;
  let finish = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const stop = await start(() => {
    last = performance.now();
    if (count++ === 0) first = last;
    if (count >= events || last - first > THROUGHPUT_CAP_MS) finish();
  });
  const timeout = sleep(120_000, undefined, { ref: false }).then(() =>
    Promise.reject(new Error(`timed out consuming ${events} events`)),
  );
  await Promise.race([finished, timeout]);
  await stop();
  return { events: count, perSecond: rate(count - 1, last - first) };
}

const runnerFor = (db: Database, name: string, onEvent: (id: string) => void, topic = TOPIC): ConsumerRunner =>
  new ConsumerRunner(defineConsumer({ name, topics: [topic], handle: async (event) => onEvent(event.id) }), {
    db,
    catalog: testCatalog,
    clock: systemClock,
    log,
    deadLetters: new DeadLetterStore(db, systemClock),
    retry: defaultRetryPolicy,
  });

/** A runner that does nothing (no decode, no inbox transaction): what the bus costs on its own. */
const bareRunner = (name: string, tick: () => void, topic = TOPIC): ConsumerRunner =>
  ({
    name,
    consumer: { name, topics: [topic], handle: async () => {} },
    process: async () => (tick(), 'processed' as const),
    processBatch: async (messages: readonly unknown[]) => messages.map(() => (tick(), 'processed' as const)),
    stop: () => {},
  }) as unknown as ConsumerRunner;

const subscribeRate = (bus: Bus, events: number, runner: (tick: () => void) => ConsumerRunner) =>
  consumeRate(events, async (tick) => {
    const subscription = await bus.subscribe(runner(tick));
    return () => subscription.stop();
  });

type Consumers = Record<'baseline' | 'runner' | 'stubbed', (round: number) => Promise<Consumed>>;

/** Alternates the consumers for ROUNDS rounds (each round a new group from the start) and keeps each one's best. */
async function bestOf(consumers: Consumers): Promise<Record<keyof Consumers, Consumed>> {
  const best = {
    baseline: { events: 0, perSecond: 0 },
    runner: { events: 0, perSecond: 0 },
    stubbed: { events: 0, perSecond: 0 },
  };
  for (let round = 0; round < ROUNDS; round++) {
    for (const key of Object.keys(best) as (keyof Consumers)[]) {
      const result = await consumers[key](round);
      progress(`throughput ${key} round ${round + 1}: ${fmtInt(result.events)} events, ${fmtInt(result.perSecond)}/s`);
      if (result.perSecond > best[key].perSecond) best[key] = result;
    }
  }
  return best;
}

/** Appends `events` more events in batches of 100 (the throughput runs read them). */
async function fill(
  store: EventStore,
  events: number,
  make: (customerId: string, n: number) => { type: string; data: unknown } = thing,
): Promise<void> {
  for (let b = 0; b < events / 100; b++) {
    await store.append(
      `fill-${b}`,
      Array.from({ length: 100 }, (_, i) => make(`c${i}`, i)),
    );
  }
}

// ---------------------------------------------------------------------------------------------

interface LatencyRow {
  bus: string;
  perSecond: number;
  ours: Latency;
  baselineName: string;
  baseline: Latency;
}

interface ThroughputRow {
  bus: string;
  consumer: string;
  events: number;
  ours: number;
  baselineName: string;
  baseline: number;
  goal: boolean;
}

const latencyRows: LatencyRow[] = [];
const throughputRows: ThroughputRow[] = [];

async function openStore(backend: 'PGlite' | 'PostgreSQL'): Promise<{ db: Database; store: EventStore }> {
  // The platform's own pool (DATABASE_POOL_SIZE, 20): the paced appends, the relay and the consumers share it.
  const db = backend === 'PGlite' ? await openPglite() : await openTestPostgres({ poolSize: 20 });
  await migrate(db, [...eventStoreMigrations, ...consumerMigrations]);
  return { db, store: new EventStore(db, testCatalog, systemClock) };
}

const countEvents = async (db: Database, type?: string) =>
  (
    await db.query<{ n: number }>('select count(*)::int8 as n from events where $1::text is null or type = $1', [
      type ?? null,
    ])
  ).rows[0]!.n;

/**
 * The runner's first step alone, what no consumer of the events can skip: the throughput topic's
 * events as the relay sent them, read back into events (headers, JSON, schema, time), best of 3
 * passes over them all (the later ones warm).
 */
async function decodeRate(store: EventStore, events: number): Promise<number> {
  const rows = await store.readAllRaw(LOG_START, { limit: events, types: [OtherThingHappened.type] });
  const messages = rows.map((row) => toCloudEvent(row, THROUGHPUT_TOPIC));
  let best = 0;
  for (let pass = 0; pass < 3; pass++) {
    const started = performance.now();
    for (const message of messages) fromCloudEvent(testCatalog, message);
    best = Math.max(best, rate(messages.length, performance.now() - started));
  }
  return best;
}

/** The throughput rows: the runner (the goal) and the stubbed runner, each beside the same baseline. */
function throughput(bus: string, baselineName: string, best: Record<keyof Consumers, Consumed>): void {
  const row = (consumer: string, ours: Consumed, goal: boolean): ThroughputRow => ({
    bus,
    consumer,
    events: ours.events,
    ours: ours.perSecond,
    baselineName,
    baseline: best.baseline.perSecond,
    goal,
  });
  throughputRows.push(
    row(
      `${bus.startsWith('Kafka') ? 'KafkaBus' : 'EmbeddedBus'}.subscribe + ConsumerRunner (no-op handler)`,
      best.runner,
      true,
    ),
    row('the same, runner stubbed (no decode, no inbox)', best.stubbed, false),
  );
}

/**
 * The latency baseline: a bare producer and consumer configured as a Kafka user would: the idempotent
 * producer (acks=all, like the bus) writing through the library's batching stream (up to 500 messages,
 * linger 5 ms), and a consumer that fetches as soon as a byte is there (fetch.min.bytes=1).
 */
async function bareKafkaLatency(rawTopic: string, durationMs: number) {
  const rawProbe = new Probe();
  const producer = new Producer({
    clientId: 'bench-raw',
    bootstrapBrokers: BROKERS,
    idempotent: true,
    acks: ProduceAcks.ALL,
    partitioner: compatibilityPartitioner,
    serializers: stringSerializers,
    autocreateTopics: false,
  });
  const writer = producer.asStream({ batchSize: 500, batchTime: LINGER_MS });
  writer.on('error', (error: unknown) => console.error('bare producer failed:', error));
  const produce = async (index: number, dueAt: number) => {
    const id = uuidv7();
    rawProbe.send(id, dueAt);
    writer.write({ topic: rawTopic, key: `c${index % 100}`, value: id } satisfies MessageToProduce<
      string,
      string,
      string,
      string
    >);
  };
  const consumer = new Consumer({
    clientId: 'bench-raw',
    bootstrapBrokers: BROKERS,
    groupId: `${PREFIX}raw-latency`,
    minBytes: 1,
    maxWaitTime: 1_000,
    deserializers: stringDeserializers,
  });
  const stream = await consumer.consume({ topics: [rawTopic], mode: 'earliest' });
  stream.on('data', (message: Message<string, string, string, string>) => rawProbe.received(message.value));
  const raw = await pacedRun('baseline', rawProbe, RATE, durationMs, produce);
  const rawLight = await pacedRun('baseline', rawProbe, LIGHT_RATE, LIGHT_MS, produce);
  await stream.close();
  await consumer.close();
  await new Promise<void>((resolve) => writer.end(resolve));
  await producer.close();
  return { raw, rawLight };
}

async function benchKafka(durationMs: number): Promise<void> {
  const { db, store } = await openStore('PostgreSQL');
  const bus = new KafkaBus({ brokers: BROKERS, clientId: 'bench', topicPrefix: PREFIX, catalog: testCatalog, log });
  const relay = new OutboxRelay({ store, catalog: testCatalog, publisher: bus, clock: systemClock, log });
  const admin = new Admin({ clientId: 'bench-admin', bootstrapBrokers: BROKERS });
  const rawTopic = bus.topicName('raw.latency');
  const name = 'Kafka + PostgreSQL';
  try {
    await bus.start();
    await bus.ensureTopics(['raw.latency']);
    await relay.start();
    if (LATENCY) {
      // Latency: store append → relay → Kafka → KafkaBus → ConsumerRunner handler, vs bare Kafka.
      const probe = new Probe();
      const subscription = await bus.subscribe(runnerFor(db, 'latency', (id) => probe.received(id)));
      const ours = await pacedRun(name, probe, RATE, durationMs, appendProbed(store, probe, 'lat'));
      const oursLight = await pacedRun(name, probe, LIGHT_RATE, LIGHT_MS, appendProbed(store, probe, 'light'));
      await subscription.stop();
      const { raw, rawLight } = await bareKafkaLatency(rawTopic, durationMs);
      const baselineName = 'bare producer → bare consumer';
      latencyRows.push(
        { bus: name, perSecond: RATE, ours: ours.delivered, baselineName, baseline: raw.delivered },
        { bus: name, perSecond: LIGHT_RATE, ours: oursLight.delivered, baselineName, baseline: rawLight.delivered },
      );
    }
    if (!THROUGHPUT) return;
    // The throughput runs' events, on a topic of their own, published by the relay.
    await fill(store, THROUGHPUT_EVENTS, otherThing);
    const published = async () => {
      const { rows } = await db.query<{ done: boolean }>(
        // In the log's order (tx_id, position): the highest position can come before the checkpoint.
        `select not exists (select 1 from events e join checkpoints c on c.name = 'relay' and (e.tx_id, e.position) > (c.tx_id, c.position))
           and exists (select 1 from checkpoints where name = 'relay') as done`,
      );
      return rows[0]?.done === true;
    };
    for (const deadline = performance.now() + 120_000; !(await published()); await sleep(50)) {
      if (performance.now() > deadline) throw new Error('the relay did not publish the events within 2 minutes');
    }
    await relay.stop();

    // Throughput: everything published, the throughput topic read from the start by new groups.
    const events = await countEvents(db, OtherThingHappened.type);
    const best = await bestOf({
      baseline: (round) =>
        consumeRate(events, async (tick) => {
          const client = new Consumer({
            clientId: 'bench-raw',
            bootstrapBrokers: BROKERS,
            groupId: `${PREFIX}raw-${round}`,
            maxWaitTime: 1_000,
            deserializers: stringDeserializers,
          });
          const messages = await client.consume({
            topics: [bus.topicName(THROUGHPUT_TOPIC)],
            mode: 'earliest',
            autocommit: false,
          });
          const reading = (async () => {
            for await (const _message of messages) tick();
          })();
          return async () => {
            await messages.close();
            await reading;
            await client.close();
          };
        }),
      runner: (round) => subscribeRate(bus, events, (tick) => runnerFor(db, `runner-${round}`, tick, THROUGHPUT_TOPIC)),
      stubbed: (round) => subscribeRate(bus, events, (tick) => bareRunner(`stubbed-${round}`, tick, THROUGHPUT_TOPIC)),
    });
    throughput(name, 'bare Consumer', best);
    throughputRows.push({
      bus: name,
      consumer: 'fromCloudEvent alone: the same events read back from their messages (no Kafka, no runner)',
      events,
      ours: await decodeRate(store, events),
      baselineName: 'bare Consumer',
      baseline: best.baseline.perSecond,
      goal: false,
    });
  } finally {
    await relay.stop();
    await bus.close();
    // Leave nothing behind on the shared broker: the run's topics and consumer groups.
    const topics = (await admin.listTopics().catch(() => [])).filter((topic) => topic.startsWith(PREFIX));
    if (topics.length > 0)
      await admin
        .deleteTopics({ topics })
        .catch((error: unknown) => console.error('could not delete the bench topics:', error));
    const groups = [...(await admin.listGroups().catch(() => new Map())).keys()].filter((group: string) =>
      group.startsWith(PREFIX),
    );
    if (groups.length > 0)
      await admin
        .deleteGroups({ groups })
        .catch((error: unknown) => console.error('could not delete the bench groups:', error));
    await admin.close();
    await db.close();
  }
}

async function benchEmbedded(backend: 'PGlite' | 'PostgreSQL', durationMs: number): Promise<void> {
  const { db, store } = await openStore(backend);
  const bus = new EmbeddedBus({ store, catalog: testCatalog, clock: systemClock, log });
  const name = `embedded + ${backend}`;
  try {
    if (LATENCY) {
      // Latency: append → EmbeddedBus (the store's log) → ConsumerRunner handler, vs the append's own commit.
      const probe = new Probe();
      const subscription = await bus.subscribe(runnerFor(db, 'latency', (id) => probe.received(id)));
      const ours = await pacedRun(name, probe, RATE, durationMs, appendProbed(store, probe, 'lat'));
      const light = await pacedRun(name, probe, LIGHT_RATE, LIGHT_MS, appendProbed(store, probe, 'light'));
      await subscription.stop();
      const baselineName = 'the append alone (call → committed)';
      latencyRows.push(
        { bus: name, perSecond: RATE, ours: ours.delivered, baselineName, baseline: ours.commits },
        { bus: name, perSecond: LIGHT_RATE, ours: light.delivered, baselineName, baseline: light.commits },
      );
    }
    if (!THROUGHPUT) return;

    // Throughput: the whole log from the start, vs raw SELECTs of the same pages.
    await fill(store, THROUGHPUT_EVENTS);
    const events = await countEvents(db);
    const best = await bestOf({
      baseline: () =>
        consumeRate(events, async (tick) => {
          let after = LOG_START;
          for (let read = 0; read < events;) {
            const { rows } = await db.query<{ tx_id: string; position: number }>(
              `select position, tx_id, event_id, stream_id, version, type, schema_version, data, metadata, partition_key, occurred_at
               from events where (tx_id, position) > ($1::xid8, $2::bigint) order by tx_id, position limit $3`,
              [after.txId, after.position, EMBEDDED_PAGE],
            );
            for (const _row of rows) tick();
            read += rows.length;
            after = { txId: rows[rows.length - 1]!.tx_id, position: rows[rows.length - 1]!.position };
          }
          return async () => {};
        }),
      runner: (round) => subscribeRate(bus, events, (tick) => runnerFor(db, `runner-${round}`, tick)),
      stubbed: (round) => subscribeRate(bus, events, (tick) => bareRunner(`stubbed-${round}`, tick)),
    });
    throughput(name, `SELECT pages of ${fmtInt(EMBEDDED_PAGE)}, same order (the bus's page)`, best);
  } finally {
    await bus.close();
    await db.close();
  }
}

const only = argOf('only')?.split(',');
const phases: [string, () => Promise<void>][] = [
  ['Kafka', () => benchKafka(KAFKA_MS)],
  ['embedded + PostgreSQL', () => benchEmbedded('PostgreSQL', EMBEDDED_MS)],
  ['embedded + PGlite', () => benchEmbedded('PGlite', EMBEDDED_MS)],
];
for (const [name, phase] of phases) {
  if (only && !only.some((wanted) => name.toLowerCase().includes(wanted.toLowerCase()))) continue;
  const started = performance.now();
  await phase();
  progress(`${name}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

const p99Goal = (bus: string) => (bus.startsWith('Kafka') ? P99_GOAL_MS : EMBEDDED_P99_GOAL_MS);
const ms = (latency: Latency) => `${fmtMs(latency.p50)} / ${fmtMs(latency.p95)} / ${fmtMs(latency.p99)}`;
// Each table only when this run measured it (`--part`): no notes about runs that did not happen.
if (latencyRows.length > 0)
  printTable(
    'End-to-end latency (ms, p50 / p95 / p99)',
    [
      'bus',
      'paced at',
      'events',
      'delivered/s',
      'Tributary',
      'baseline (same run)',
      'baseline',
      'p99 ratio',
      'goal',
      'met',
    ],
    latencyRows.map((row) => [
      row.bus,
      `${fmtInt(row.perSecond)}/s`,
      fmtInt(row.ours.events),
      fmtInt(row.ours.deliveredPerSecond),
      ms(row.ours),
      row.baselineName,
      ms(row.baseline),
      fmtRatio(row.ours.p99 / row.baseline.p99),
      row.perSecond === RATE ? `p99 < ${p99Goal(row.bus)} ms` : 'info',
      row.perSecond === RATE ? verdict(row.ours.p99 < p99Goal(row.bus)) : '',
    ]),
    [
      `${machine()}. Events are appended one per call, each to a stream of its own, after a ${WARMUP_MS / 1000} s ` +
        `warm-up at the same pace; ${fmtInt(RATE)}/s for ${KAFKA_MS / 1000} s on Kafka, ${EMBEDDED_MS / 1000} s ` +
        `embedded; ${fmtInt(LIGHT_RATE)}/s for ${LIGHT_MS / 1000} s.`,
      'Latency: from when the append (or send) was due to when the ConsumerRunner handler (or bare consumer) got ' +
        'the event, kept by event id (not occurredAt); the runner includes its inbox transaction.',
      'delivered/s: events ÷ (first send → last receipt); below the paced rate, the consumer fell behind and the latency grew for the whole run.',
    ],
  );
if (throughputRows.length > 0)
  printTable(
    'Consumer throughput (events/s, first message to last)',
    ['bus', 'consumer', 'events', 'Tributary', 'baseline (same run)', 'baseline', 'ratio', 'goal', 'met'],
    throughputRows.map((row) => {
      const ratio = row.ours / row.baseline;
      const goal = row.bus.startsWith('Kafka') ? THROUGHPUT_GOAL : EMBEDDED_THROUGHPUT_GOAL;
      return [
        row.bus,
        row.consumer,
        fmtInt(row.events),
        fmtInt(row.ours),
        row.baselineName,
        fmtInt(row.baseline),
        fmtRatio(ratio),
        row.goal ? `≥ ${goal}×` : 'diagnostic',
        row.goal ? verdict(ratio >= goal) : '',
      ];
    }),
    [
      ...(latencyRows.length > 0 ? [] : [`${machine()}.`]),
      [
        `Each consumer is a new group reading from the start, for at most ${THROUGHPUT_CAP_MS / 1000} s:`,
        `on Kafka a topic of its own (${fmtInt(THROUGHPUT_EVENTS)} events the relay published${LATENCY ? ' after the latency runs' : ''}),`,
        `embedded the store's log (${LATENCY ? `the latency runs' events and ${fmtInt(THROUGHPUT_EVENTS)} more` : fmtInt(THROUGHPUT_EVENTS)});`,
        `best of ${ROUNDS} alternating rounds (events: that round's).`,
      ].join(' '),
      'The ConsumerRunner takes what the bus already holds (fetched on Kafka, a page of the log embedded) as a ' +
        'batch: the inbox rows and the handlers in one transaction per batch; the stubbed runner shows what the bus ' +
        'costs on its own.',
      'The embedded bus reads a page of every type, with the data of the group’s types only, reads the next page ' +
        'while the runner handles one, and saves its checkpoint at most every second.',
      ...(throughputRows.some((row) => row.bus.startsWith('Kafka'))
        ? [
            "fromCloudEvent alone: 0.8× of the bare consumer leaves what the bus and the runner add to it a quarter of the bare consumer's time a " +
              'message, so reading the events back alone would have to run at ≥ 4× its rate for the goal to be within reach.',
          ]
        : []),
    ],
  );
await writeJson({ bench: 'bus', latency: latencyRows, throughput: throughputRows });
