/**
 * Events per second through all the platform's consumers on Kafka: `npm run bench:consumers`.
 *
 * The platform (PostgreSQL + Kafka, its own schema and topic prefix) registers customers through
 * its API with no consumer running, renews them a month later and erases one in ten; the relay
 * publishes their events. Then every real reaction consumer (src/reactions) joins as a new group
 * and reads them all from the start, beside the same groups with a no-op handler through the same
 * ConsumerRunner (the baseline, same run).
 *
 * Then each consumer alone, its effects emptied first: the email consumers into the mailbox and
 * into a local SMTP server (a process of its own, pooled kept-alive connections, opened and warmed
 * up before the rounds); and with `--processes 1,2,3` the no-op groups run in 1, 2 and 3 consumer
 * processes (bench/consumer-process.ts) on the topics' 3 partitions.
 *
 * KAFKA_BROKERS (127.0.0.1:9092; `npm run kafka:start`), TEST_DATABASE_URL; `--registrations N`
 * (or BENCH_REGISTRATIONS, default 1,000), `--processes 1,2,3`, `--part together` (only the
 * all-consumers phase and its baselines, no consumer alone), `--json FILE`. Progress goes to
 * stderr (BENCH_QUIET=1 hides it). BENCH_CPU_PROFILE=FILE writes a CPU profile of the real consumers' phase.
 */
import { fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { ConsumerDefinition } from '../src/kernel/consumers/consumer.ts';
import { ConsumerRunner } from '../src/kernel/consumers/consumer-runner.ts';
import { loadConfig } from '../src/kernel/config.ts';
import { silentLogger } from '../src/kernel/logger.ts';
import { startPlatform, type Platform } from '../src/platform.ts';
import { dropSchemaAndViews, TEST_DATABASE_URL } from '../test/support/postgres.ts';
import { SmtpMailer } from '../src/reactions/email/smtp-mailer.ts';
import { MailboxMailer } from '../src/reactions/email/mailbox-mailer.ts';
import type { Mailer } from '../src/reactions/email/mailer.ts';
import { EMAIL_TYPES } from '../src/reactions/email/notification-log.ts';
import { welcomeEmail } from '../src/reactions/email/welcome-email.ts';
import { paymentReceipt } from '../src/reactions/email/payment-receipt.ts';
import { renewalNotice } from '../src/reactions/email/renewal-notice.ts';
import { warmUpMailer } from './smtp-warm-up.ts';
import { profiled } from './cpu-profile.ts';
import { cpuBetween, readCpu } from './process-cpu.ts';
import {
  argOf,
  deleteKafkaPrefix,
  fmtInt,
  fmtRatio,
  inParallel,
  machine,
  platformReactions,
  printTable,
  progress,
  rate,
  writeJson,
} from './support.ts';

const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const REGISTRATIONS = Number(argOf('registrations') ?? process.env.BENCH_REGISTRATIONS ?? 1_000);
const PROCESSES = (argOf('processes') ?? '').split(',').filter(Boolean).map(Number);
/** `--part together`: the all-consumers phase (and its baselines) only. */
const PART = argOf('part');
if (PART !== undefined && PART !== 'together') throw new Error(`--part is together, not ${PART}`);
const CONCURRENCY = 16;
const GOAL = 0.5;
/** Each consumer alone, deliveries/s. */
const EACH_GOAL = 1_000;
const EMAIL_KINDS = [welcomeEmail, paymentReceipt, renewalNotice];
/** Their consumers' names: an email consumer is named after the type of email it sends. */
const EMAIL_CONSUMERS = new Set<string>(EMAIL_TYPES);
/** Every this many customers, one is erased after the renewals. */
const ERASE_EVERY = 10;
/**
 * What a consumer's round alone empties first, so that it makes its effects again rather than
 * meet them (the email consumers empty their notification log). Forgetting a recipient is an
 * update whichever the notification log holds: nothing to empty.
 */
const EFFECTS: Record<string, string | undefined> = {
  // The records refuse a truncation (append-only): the bench's own schema lifts that for a moment.
  'audit-logger': `begin; alter table audit_records disable trigger user; truncate audit_records;
    alter table audit_records enable trigger user; update audit_chain_head set last_id = 0, last_hash = repeat('0', 64); commit`,
  'invoice-generator': 'truncate invoices, invoice_counters',
  'gl-posting': 'truncate journal_lines, journal_entries, revenue_schedules',
  'compliance-check': 'truncate compliance_obligations',
  'ml-training': 'truncate churn_examples',
};
/** A run ends when every event reached every group, or when nothing arrived for this long. */
const IDLE_MS = 5_000;

const id = randomBytes(4).toString('hex');
const schema = `bench_consumers_${id}`;
/** The platform's PostgreSQL connections, whose backends' CPU a run counts. */
const APPLICATION_NAME = schema;
const prefix = `bench-consumers-${id}.`;

interface Run {
  delivered: number;
  expected: number;
  perSecond: number;
  /** CPU per delivery, µs, from every group joined to the last delivery: this process's (all its threads) and its PostgreSQL backends'. */
  cpuPerDelivery: { node: number; postgres: number };
  /** Per consumer: its deliveries and its own rate (first to last of its events, all running at once). */
  each: Map<string, { delivered: number; perSecond: number }>;
}

/** A run's CPU per delivery as a table writes it: this process's + its PostgreSQL backends', µs. */
const cpuText = ({ cpuPerDelivery: { node, postgres } }: Run) => `${fmtInt(node)} + ${fmtInt(postgres)}`;
const cpuTotal = ({ cpuPerDelivery: { node, postgres } }: Run) => node + postgres;

/** Subscribes a runner per consumer, waits until they delivered `expected` (or went idle), stops them. */
async function run(platform: Platform, consumers: ConsumerDefinition[], expected: number): Promise<Run> {
  let delivered = 0;
  let first = NaN;
  let last = 0;
  // From when a consumer's first handler call began (a batch's effects all end at once) to its last end.
  const each = new Map<string, { delivered: number; first: number; last: number }>();
  // A batch in hand is not idleness (its deliveries are counted when it ends).
  let inFlight = 0;
  // Every group joins before a handler runs: a run measures the consumers, not Kafka's group joins
  // one after another (which a busy process slows, so they weighed on the real consumers most).
  let allJoined = () => {};
  const joined = new Promise<void>((resolve) => (allJoined = resolve));
  const begin = async (name: string) => {
    await joined;
    inFlight++;
    const now = performance.now();
    if (Number.isNaN(first)) first = now;
    if (!each.has(name)) each.set(name, { delivered: 0, first: now, last: now });
  };
  const tick = (name: string) => {
    last = performance.now();
    delivered++;
    const mine = each.get(name)!;
    mine.delivered++;
    mine.last = last;
  };
  const subscriptions = [];
  for (const consumer of consumers) {
    const handleBatch = consumer.handleBatch?.bind(consumer);
    const counted: ConsumerDefinition = {
      ...consumer,
      async handle(event, context) {
        await begin(consumer.name);
        try {
          await consumer.handle(event, context);
        } finally {
          inFlight--;
        }
        tick(consumer.name);
      },
      ...(handleBatch && {
        async handleBatch(events, context) {
          await begin(consumer.name);
          try {
            const failures = await handleBatch(events, context);
            for (const event of events) if (!failures?.has(event.id)) tick(consumer.name);
            return failures;
          } finally {
            inFlight--;
          }
        },
      }),
    };
    const runner = new ConsumerRunner(counted, {
      db: platform.db,
      catalog: platform.catalog,
      clock: platform.clock,
      log: silentLogger,
      deadLetters: platform.deadLetters,
      retry: platform.config.retry,
      publishDeadLetter: (name, message, error) => platform.bus.publishDeadLetter(name, message, error),
    });
    subscriptions.push(await platform.bus.subscribe(runner));
  }
  const cpuBefore = await readCpu(TEST_DATABASE_URL, process.pid, APPLICATION_NAME);
  allJoined();
  const started = performance.now();
  while (delivered < expected && (inFlight > 0 || performance.now() - Math.max(last, started) < IDLE_MS))
    await sleep(20);
  const cpu = cpuBetween(cpuBefore, await readCpu(TEST_DATABASE_URL, process.pid, APPLICATION_NAME))!;
  await Promise.all(subscriptions.map((subscription) => subscription.stop()));
  const rates = new Map(
    [...each].map(([name, mine]) => [
      name,
      { delivered: mine.delivered, perSecond: rate(mine.delivered, mine.last - mine.first) },
    ]),
  );
  const perDelivery = (ms: number | null) => ((ms ?? 0) * 1_000) / Math.max(delivered, 1);
  const cpuPerDelivery = { node: perDelivery(cpu.serverMs), postgres: perDelivery(cpu.databaseMs) };
  return { delivered, expected, perSecond: rate(delivered, last - first), cpuPerDelivery, each: rates };
}

const cleanups: (() => Promise<void>)[] = [];
try {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  cleanups.push(() => dropSchemaAndViews(schema));
  const dataDir = await mkdtemp(join(tmpdir(), 'tributary-bench-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  cleanups.push(() => deleteKafkaPrefix(BROKERS, prefix));

  const config = loadConfig({
    ...process.env,
    DATABASE_URL: `${TEST_DATABASE_URL}?options=-c%20search_path%3D${schema}&application_name=${APPLICATION_NAME}`,
    KAFKA_BROKERS: BROKERS,
    KAFKA_TOPIC_PREFIX: prefix,
    DATA_DIR: dataDir,
    SMTP_URL: undefined,
    CLOCK: 'test',
    LOG_LEVEL: 'silent',
    ADMIN_TOKEN: 'bench-admin-token',
    REGISTER_RATE_LIMIT: '1000000',
  });
  // No consumer while the events are written: each run below reads them all from the start.
  const platform = await startPlatform(config, { log: silentLogger, consumers: [] });
  cleanups.unshift(() => platform.stop());
  await platform.started;

  progress(`registering ${fmtInt(REGISTRATIONS)} customers (${CONCURRENCY} at a time)...`);
  let failed = 0;
  const customers: string[] = [];
  await inParallel(CONCURRENCY, REGISTRATIONS, async (index) => {
    const response = await platform.http.inject({
      method: 'POST',
      url: '/register',
      payload: {
        email: `bench-${index}@example.com`,
        name: `Bench ${index}`,
        planId: 'pro-monthly',
        paymentMethod: 'pm_card_visa',
      },
    });
    if (response.statusCode >= 300) failed++;
    else customers.push(response.json<{ customerId: string }>().customerId);
  });
  if (failed > 0) progress(`${failed} registrations were refused`);
  // A month later on the test clock: every subscription renews (subscription.renewed, payments, invoices).
  const advanced = await platform.http.inject({
    method: 'POST',
    url: '/admin/clock/advance',
    payload: { days: 32 },
    headers: { authorization: 'Bearer bench-admin-token' },
  });
  progress(`clock advanced 32 days: ${advanced.statusCode} ${advanced.body.slice(0, 120)}`);
  // Every renewal done before the erasures, so that the workload is the same in every run.
  for (let status = advanced.statusCode === 202 ? 'running' : 'done'; status === 'running'; await sleep(200)) {
    const advance = await platform.http.inject({
      method: 'GET',
      url: String(advanced.headers.location),
      headers: { authorization: 'Bearer bench-admin-token' },
    });
    status = advance.json<{ status: string }>().status;
  }
  // Every tenth customer erased: cancellations and deletions, for the consumers that follow them.
  const erased = customers.filter((_, index) => index % ERASE_EVERY === 0);
  await inParallel(CONCURRENCY, erased.length, async (index) => {
    const response = await platform.http.inject({
      method: 'POST',
      url: `/customers/${erased[index]}/erase`,
      headers: { authorization: 'Bearer bench-admin-token' },
    });
    if (response.statusCode !== 200) throw new Error(`erasure answered ${response.statusCode}: ${response.body}`);
  });
  progress(`${fmtInt(erased.length)} customers erased`);
  // Every event published by the relay (the sagas finish in the background).
  const count = async (sql: string, params: unknown[] = []) =>
    Number((await platform.db.query<{ n: string }>(sql, params)).rows[0]!.n);
  for (let previous = -1; ; await sleep(500)) {
    const events = await count('select count(*) as n from events');
    const published = await count(
      // In the log's order (tx_id, position): a position alone can sort after the checkpoint and yet be published.
      `select count(*) as n from events e join checkpoints c on c.name = 'relay' and (e.tx_id, e.position) <= (c.tx_id, c.position)`,
    );
    if (events === previous && published >= events) break;
    previous = events;
  }

  const real = platformReactions(platform, silentLogger);
  let expected = 0;
  for (const consumer of real)
    expected += await count('select count(*) as n from events where type = any($1)', [
      platform.catalog.typesOf(consumer.topics),
    ]);
  const events = await count('select count(*) as n from events');
  progress(
    `${fmtInt(events)} events; ${real.length} consumers (${real.map((consumer) => consumer.name).join(', ')}) have ${fmtInt(expected)} deliveries to make`,
  );

  const noop = (round: number): ConsumerDefinition[] =>
    real.map((consumer) => ({
      name: `${consumer.name}-noop-${round}`,
      topics: consumer.topics,
      batch: true,
      handle: async () => {},
    }));
  const baselines: Run[] = [];
  baselines.push(await run(platform, noop(1), expected));
  progress(`no-op handlers: ${fmtInt(baselines[0]!.delivered)} deliveries, ${fmtInt(baselines[0]!.perSecond)}/s`);
  // The real consumers once (their effects can be made once only), between two baseline rounds.
  const deadBefore = await count('select count(*) as n from dead_letters');
  const ours = await profiled(() => run(platform, real, expected));
  const deadLettered = (await count('select count(*) as n from dead_letters')) - deadBefore;
  progress(
    `real consumers: ${fmtInt(ours.delivered)} deliveries, ${fmtInt(ours.perSecond)}/s, ${deadLettered} dead letters`,
  );
  baselines.push(await run(platform, noop(2), expected));
  progress(`no-op handlers: ${fmtInt(baselines[1]!.delivered)} deliveries, ${fmtInt(baselines[1]!.perSecond)}/s`);
  const baseline = baselines.reduce((best, next) => (next.perSecond > best.perSecond ? next : best));

  // Every other consumer alone, its effects emptied first; then each email consumer, per transport.
  const alone: { consumer: string; transport?: 'mailbox' | 'smtp'; run: Run }[] = [];
  const wantedBy = (consumer: ConsumerDefinition) =>
    count('select count(*) as n from events where type = any($1)', [platform.catalog.typesOf(consumer.topics)]);
  const deadBeforeAlone = await count('select count(*) as n from dead_letters');
  for (const consumer of PART === 'together' ? [] : real.filter(({ name }) => !EMAIL_CONSUMERS.has(name))) {
    const effects = EFFECTS[consumer.name];
    if (effects) await platform.db.query(effects);
    const result = await run(platform, [{ ...consumer, name: `${consumer.name}-alone` }], await wantedBy(consumer));
    progress(
      `${consumer.name} alone: ${fmtInt(result.delivered)} deliveries, ${fmtInt(result.perSecond)}/s, CPU µs a delivery ${cpuText(result)}`,
    );
    alone.push({ consumer: consumer.name, run: result });
  }

  // Each email consumer alone, into the mailbox and into an SMTP server (a process of its own).
  const sink = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'smtp-sink-process.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanups.push(async () => void sink.kill());
  const [portLine] = (await once(createInterface({ input: sink.stdout! }), 'line')) as [string];
  const smtpUrl = `smtp://127.0.0.1:${portLine.split(' ')[1]}`;
  const emailDeps = (mailer: Mailer) => ({
    store: platform.store,
    clock: platform.clock,
    mailer,
    plan: async (planId: string) => platform.plans.get(planId),
  });
  let smtpWarmUp = 0;
  for (const transport of PART === 'together' ? [] : (['mailbox', 'smtp'] as const)) {
    const mailer: Mailer =
      transport === 'smtp'
        ? new SmtpMailer({ url: smtpUrl, from: config.email.from, timeoutMs: 10_000 })
        : new MailboxMailer({ dataDir, from: config.email.from });
    // The mailbox's path ran in the all-consumers phase; the SMTP pool is new (a round's worth of emails).
    if (transport === 'smtp') {
      smtpWarmUp = await warmUpMailer(mailer, REGISTRATIONS);
      progress(`SMTP pool opened and warmed up: ${fmtInt(REGISTRATIONS)} emails, ${fmtInt(smtpWarmUp)}/s`);
    }
    for (const make of EMAIL_KINDS) {
      const consumer = make(emailDeps(mailer));
      await platform.db.query('delete from notifications where type = $1', [consumer.name]);
      const result = await run(
        platform,
        [{ ...consumer, name: `${consumer.name}-${transport}` }],
        await wantedBy(consumer),
      );
      const sent = await count(
        `select count(*) as n from notifications where type = $1 and (delivery is not null or status = 'suppressed')`,
        [consumer.name],
      );
      progress(
        `${consumer.name} alone into the ${transport}: ${fmtInt(result.delivered)} deliveries ` +
          `(${fmtInt(sent)} emails logged), ${fmtInt(result.perSecond)}/s, CPU µs a delivery ${cpuText(result)}`,
      );
      alone.push({ consumer: consumer.name, transport, run: result });
    }
    await mailer.close?.();
  }
  const deadLetteredAlone = (await count('select count(*) as n from dead_letters')) - deadBeforeAlone;

  // The no-op groups in 1, 2, 3... consumer processes of their own (3 partitions per topic).
  const scaling: { processes: number; delivered: number; perSecond: number }[] = [];
  for (const processes of PROCESSES) {
    const groups = Object.fromEntries(real.map((consumer) => [`${consumer.name}-p${processes}`, consumer.topics]));
    const children = Array.from({ length: processes }, () =>
      fork(
        join(import.meta.dirname, 'consumer-process.ts'),
        [
          '--url',
          TEST_DATABASE_URL,
          '--schema',
          schema,
          '--prefix',
          prefix,
          '--brokers',
          BROKERS,
          '--topics',
          JSON.stringify(groups),
        ],
        {
          execArgv: ['--import', 'tsx'],
        },
      ),
    );
    const latest = new Map<number, { delivered: number; first: number; last: number }>();
    children.forEach((child, index) =>
      child.on(
        'message',
        (message: { delivered?: number; first: number; last: number }) =>
          message.delivered !== undefined && latest.set(index, message as never),
      ),
    );
    const total = () => [...latest.values()].reduce((sum, report) => sum + report.delivered, 0);
    let lastChange = performance.now();
    // Longer than IDLE_MS: the processes start (and join eight groups each) before anything arrives.
    for (let seen = -1; total() < expected && performance.now() - lastChange < 6 * IDLE_MS; await sleep(50)) {
      if (total() === seen) continue;
      seen = total();
      lastChange = performance.now();
    }
    await Promise.all(
      children.map(async (child) => {
        child.send('stop');
        await once(child, 'exit');
      }),
    );
    const reports = [...latest.values()].filter((report) => report.delivered > 0);
    const span = Math.max(...reports.map((report) => report.last)) - Math.min(...reports.map((report) => report.first));
    scaling.push({ processes, delivered: total(), perSecond: rate(total() - 1, span) });
    progress(
      `${processes} consumer process(es), no-op groups: ${fmtInt(total())} deliveries, ${fmtInt(scaling.at(-1)!.perSecond)}/s`,
    );
  }

  const ratio = ours.perSecond / baseline.perSecond;
  const aloneRow = ({ consumer, transport, run: mine }: (typeof alone)[number]) => [
    `· ${consumer} alone${transport ? `, into the ${transport === 'smtp' ? 'SMTP server' : 'mailbox'}` : ''} (CPU µs a delivery: ${cpuText(mine)})`,
    fmtInt(mine.delivered),
    fmtInt(mine.perSecond),
    '',
    '',
    '',
    `≥ ${fmtInt(EACH_GOAL)}/s`,
    mine.perSecond >= EACH_GOAL ? '✅' : '❌ missed',
  ];
  printTable(
    'Throughput of all the consumers (Kafka + PostgreSQL, deliveries/s, first to last)',
    ['consumers', 'deliveries', 'Tributary', 'baseline (same run)', 'baseline', 'ratio', 'goal', 'met'],
    [
      [
        `${real.length} reaction consumers (${real.map((consumer) => consumer.name).join(', ')})`,
        `${fmtInt(ours.delivered)} of ${fmtInt(ours.expected)}`,
        fmtInt(ours.perSecond),
        'the same groups, no-op handlers, same ConsumerRunner',
        fmtInt(baseline.perSecond),
        fmtRatio(ratio),
        `≥ ${GOAL}×`,
        ratio >= GOAL ? '✅' : '❌ missed',
      ],
      [
        '· CPU per delivery, µs: this process + its PostgreSQL backends (all running)',
        '',
        cpuText(ours),
        'the same, no-op handlers',
        cpuText(baseline),
        fmtRatio(cpuTotal(baseline) / cpuTotal(ours)),
        'diagnostic',
        '',
      ],
      ...real.map((consumer) => {
        const mine = ours.each.get(consumer.name);
        return [
          `· ${consumer.name} (all running)`,
          fmtInt(mine?.delivered ?? 0),
          fmtInt(mine?.perSecond ?? 0),
          '',
          '',
          '',
          'diagnostic',
          '',
        ];
      }),
      ...alone.filter(({ transport }) => transport !== 'smtp').map(aloneRow),
      [
        '· SMTP warm-up before its rounds (the pool opened, welcome emails straight through the mailer)',
        fmtInt(REGISTRATIONS),
        fmtInt(smtpWarmUp),
        '',
        '',
        '',
        'diagnostic',
        '',
      ],
      ...alone.filter(({ transport }) => transport === 'smtp').map(aloneRow),
      ...scaling.map((row) => [
        `no-op groups in ${row.processes} consumer process(es)`,
        fmtInt(row.delivered),
        fmtInt(row.perSecond),
        '',
        '',
        fmtRatio(row.perSecond / (scaling[0]?.perSecond ?? row.perSecond)),
        'scaling (vs 1 process)',
        '',
      ]),
    ],
    [
      `${machine()}.`,
      `${fmtInt(REGISTRATIONS)} registrations through POST /register (${CONCURRENCY} at a time), a 32-day advance of the ` +
        `test clock (renewals) and the erasure of one customer in ${ERASE_EVERY} (cancellations, deletions) made ` +
        `${fmtInt(events)} events; every consumer then joined as a new group and read its topics from the start, all at ` +
        'once. A delivery is one event handled by one consumer (effects committed with the inbox, in batches of what the ' +
        'consumer had fetched).',
      'Rates: deliveries ÷ (start of the first handler call → end of the last), handlers held until every group has ' +
        'joined (a group joins in 0.3–2.5 s, one after another); per consumer, its own while all ran at once.',
      "CPU per delivery: this process's (every thread: the mailbox's file writers, the garbage collector's) and its " +
        "PostgreSQL backends', from /proc in 10 ms ticks (a round of 100 deliveries reads in steps of 100 µs), from " +
        'every group joined to the last delivery.',
      'Alone: each consumer as a new group reading all its events, its effects emptied first ' +
        `(${Object.keys(EFFECTS).join(', ')}: their tables; the email consumers: their notification log; the ` +
        "recipient forgetter's updates need none); each email consumer into .eml files or a local SMTP server " +
        '(smtp-server in a process of its own; pooled, kept-alive connections, opened and warmed up by ' +
        `${fmtInt(REGISTRATIONS)} emails before the first round, as the all-consumers phase ran the mailbox's path ` +
        'before its rounds).',
      `Processes: the ${real.length} no-op groups in N processes of bench/consumer-process.ts (each its own Kafka ` +
        'consumers, 3 partitions per topic); the ratio is against 1 process.',
      "Baseline: best of two rounds of the same consumers' groups with a no-op handler (decode, inbox, commit: what " +
        `the runner and Kafka cost). Dead letters during the real run: ${deadLettered}; during the rounds alone: ` +
        `${deadLetteredAlone}.`,
    ],
  );
  await writeJson({
    bench: 'consumers',
    registrations: REGISTRATIONS,
    events,
    expected,
    together: {
      perSecond: ours.perSecond,
      delivered: ours.delivered,
      cpuPerDelivery: ours.cpuPerDelivery,
      each: Object.fromEntries(ours.each),
    },
    baseline: { perSecond: baseline.perSecond, delivered: baseline.delivered, cpuPerDelivery: baseline.cpuPerDelivery },
    ratio,
    goal: GOAL,
    alone: alone.map(({ consumer, transport, run: mine }) => ({
      consumer,
      transport,
      delivered: mine.delivered,
      perSecond: mine.perSecond,
      cpuPerDelivery: mine.cpuPerDelivery,
    })),
    smtpWarmUp: { emails: REGISTRATIONS, perSecond: smtpWarmUp },
    scaling,
    deadLettered,
    deadLetteredAlone,
  });
} finally {
  for (const cleanup of cleanups) await cleanup().catch((error: unknown) => console.error('cleanup failed:', error));
}
