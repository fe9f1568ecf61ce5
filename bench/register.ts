/**
 * POST /register over HTTP, 16 concurrent clients, each figure beside a baseline in the same run:
 * `npm run bench:register`.
 *
 * - The platform runs as `npm start` does (a child process of the build in dist/, configured by
 *   environment only; `npm run build:server` after changing src/):
 *   embedded (PGlite + the embedded bus), PostgreSQL with the embedded bus, and PostgreSQL + Kafka
 *   (the outbox relay) when `scripts/kafka/start.sh` gives a broker (or KAFKA_BROKERS is set).
 * - The baseline is a plain Fastify handler (this file, in a child process of its own) that makes
 *   the same database writes in one transaction, with no saga machinery: the idempotency key, the
 *   email row, the gateway's charge row, the four events through `append_events` (the same
 *   EventStore, so the same validation and SQL), and the renewal bookkeeping rows.
 * - Database round trips per saga step: the platform in this process, its Database's
 *   query/exec/transaction wrapped to count the statements of each registration (attributed with
 *   AsyncLocalStorage, so background pollers are not counted); a transaction counts BEGIN and COMMIT.
 *
 * Clients use node:http with a keep-alive agent, unique emails and Idempotency-Keys; the rate limit
 * is raised with REGISTER_RATE_LIMIT. PostgreSQL: TEST_DATABASE_URL, a fresh schema per server,
 * dropped after. Env: BENCH_SECONDS (10), BENCH_CONCURRENCY (16), BENCH_COUNT_N (200).
 * Options: `--postgres` runs only the PostgreSQL rows (embedded bus: baseline, the API role alone,
 * reactions off, npm start), `--rounds N` with it N times in turn (medians);
 * `--statements` only the statement counts; `--json FILE` writes the rows there too.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Admin } from '@platformatic/kafka';
import Fastify from 'fastify';
import { v7 as uuidv7 } from 'uuid';
import { seedEvents } from '../src/domain/events/index.ts';
import { EventCatalog } from '../src/kernel/catalog/catalog.ts';
import { systemClock } from '../src/kernel/clock.ts';
import { loadConfig } from '../src/kernel/config.ts';
import type { Database, QueryOptions, Sql } from '../src/kernel/db/database.ts';
import { migrate } from '../src/kernel/db/migrate.ts';
import { openPglite } from '../src/kernel/db/pglite.ts';
import { openPostgres } from '../src/kernel/db/postgres.ts';
import { silentLogger } from '../src/kernel/logger.ts';
import { EventStore } from '../src/kernel/store/event-store.ts';
import { migrations, startPlatform } from '../src/platform.ts';
import { loadPlans } from '../src/services/plans/index.ts';
import { emailDigest } from '../src/kernel/crypto/keyed-hash.ts';
import { encrypt } from '../src/kernel/crypto/personal-data.ts';
import { benchArgs, writeJsonRows } from './json-output.ts';
import { cpuBetween, readCpu, type CpuReading } from './process-cpu.ts';
import { measureEngine, printEngines, type EngineResult } from './workflow-engines.ts';
import { freePort, startPlatformProcess, type PlatformProcess } from '../test/support/platform-process.ts';
import { freshDatabaseUrl, TEST_DATABASE_URL } from '../test/support/postgres.ts';
import { waitFor } from '../test/support/wait-for.ts';
import { fmtInt, fmtMs, fmtRatio, machine, median, percentile, printTable, verdict } from './support.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_MS = 2_000;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const COUNT_N = Number(process.env.BENCH_COUNT_N ?? 200);
const SAGA_STEPS = 3; // create-customer, charge, activate
const PLAN_ID = 'pro-monthly';
const ADMIN_TOKEN = 'bench-admin-token-0123456789';
/** The goals of issue 9: ≥ 0.7× the plain handler with p99 < 100 ms, ≤ 16 statements, ≥ 2× DBOS. */
const GOAL_VS_BASELINE = 0.7;
const GOAL_P99_MS = 100;
const GOAL_STATEMENTS = 16;
const GOAL_VS_DBOS = 2;
const args = benchArgs({
  baseline: { type: 'boolean' },
  'platform-without-reactions': { type: 'boolean' },
  /** Only the statements per registration (a minute, no HTTP, no DBOS). */
  statements: { type: 'boolean' },
  /** Only the PostgreSQL rows with the embedded bus (its baseline, the API role, reactions off, npm start): no PGlite, Kafka, DBOS. */
  postgres: { type: 'boolean' },
  /** With --postgres: measure the rows in turn this many times and print medians (default 1). */
  rounds: { type: 'string' },
});

// ---------------------------------------------------------------------------------------------
// The baseline server: `tsx bench/register.ts --baseline` (env BASELINE_DATA_DIR or BASELINE_DATABASE_URL + BASELINE_SCHEMA).

async function serveBaseline(): Promise<void> {
  const db: Database = process.env.BASELINE_DATABASE_URL
    ? await openPostgres({ url: process.env.BASELINE_DATABASE_URL, schema: process.env.BASELINE_SCHEMA, poolSize: 20 })
    : await openPglite(process.env.BASELINE_DATA_DIR!);
  await migrate(db, migrations);
  const tables = new Set(
    (
      await db.query<{ name: string }>(
        `select table_name as name from information_schema.tables where table_schema = current_schema()`,
      )
    ).rows.map((row) => row.name),
  );
  const store = new EventStore(db, new EventCatalog(seedEvents), systemClock);
  const plans = await loadPlans(undefined);
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });

  app.post('/register', async (request, reply) => {
    const body = request.body as { email: string; name: string; planId: string; paymentMethod: string };
    const plan = plans.require(body.planId);
    const key = String(request.headers['idempotency-key'] ?? randomUUID());
    const [registrationId, customerId, paymentId, subscriptionId] = [uuidv7(), uuidv7(), uuidv7(), uuidv7()];
    const now = new Date().toISOString();
    const metadata = { correlationId: registrationId, causationId: null, actor: `registration:${registrationId}` };
    const chargeId = `ch_${randomBytes(12).toString('hex')}`;
    const position = await db.transaction(async (tx) => {
      await tx.query(
        'insert into http_idempotency (scope, key, request_hash, resource, created_at) values ($1, $2, $3, $4, $5)',
        ['registration', key, 'baseline', registrationId, now],
      );
      // As the platform does: a keyed hash of the email, and the personal data encrypted under the customer's key.
      await tx.query('insert into customer_emails (email, customer_id) values ($1, $2)', [
        await emailDigest(tx, body.email),
        customerId,
      ]);
      const pii = await encrypt(customerId, { email: body.email, name: body.name }, tx);
      await tx.query(
        `insert into gateway_charges (idempotency_key, charge_id, status, amount, currency, customer_id, description, payment_method, brand, last4, created_at)
         values ($1, $2, 'succeeded', $3, $4, $5, $6, $7, 'visa', '4242', $8)`,
        [
          `${registrationId}:charge`,
          chargeId,
          plan.amount,
          plan.currency,
          customerId,
          `Registration ${registrationId}`,
          body.paymentMethod,
          now,
        ],
      );
      await store.append(
        `customer-${customerId}`,
        [{ type: 'CustomerCreated', data: { customerId, pii, planId: plan.id, createdAt: now }, metadata }],
        { tx, expectedVersion: 0 },
      );
      await store.append(
        `payment-${paymentId}`,
        [
          {
            type: 'PaymentProcessed',
            data: {
              paymentId,
              customerId,
              subscriptionId: null,
              amount: plan.amount,
              currency: plan.currency,
              purpose: 'registration',
              periodIndex: 0,
              paymentMethod: { brand: 'visa', last4: '4242', tokenId: body.paymentMethod },
              gatewayReference: chargeId,
              processedAt: now,
              taxRateBps: 0,
              taxAmount: 0,
            },
            metadata,
          },
        ],
        { tx, expectedVersion: 0 },
      );
      const end = new Date(Date.now() + 30 * 24 * 3600_000).toISOString();
      await store.append(
        `subscription-${subscriptionId}`,
        [
          {
            type: 'SubscriptionCreated',
            data: {
              subscriptionId,
              customerId,
              planId: plan.id,
              price: { amount: plan.amount, currency: plan.currency },
              interval: plan.interval,
              currentPeriod: { start: now, end },
              createdAt: now,
            },
            metadata,
          },
        ],
        { tx, expectedVersion: 0 },
      );
      if (tables.has('payment_methods'))
        await tx.query('insert into payment_methods (customer_id, token) values ($1, $2)', [
          customerId,
          body.paymentMethod,
        ]);
      if (tables.has('subscription_timers'))
        await tx.query('insert into subscription_timers (subscription_id, due_at) values ($1, $2)', [
          subscriptionId,
          end,
        ]);
      const registered = await store.append(
        `customer-${customerId}`,
        [{ type: 'CustomerRegistered', data: { customerId, pii, planId: plan.id, registeredAt: now }, metadata }],
        { tx, expectedVersion: 1 },
      );
      return registered.position;
    });
    return reply
      .code(201)
      .header('location', `/customers/${customerId}`)
      .send({ registrationId, customerId, subscriptionId, paymentId, status: 'completed', position });
  });
  app.get('/ready', async () => ({ status: 'ready' }));
  const port = Number(process.env.PORT);
  await app.listen({ port, host: '127.0.0.1' });
  const stop = async () => {
    await app.close();
    await db.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
}

/** The platform as `serve` runs it, but without its reactions (no reaction consumer competes for the CPU; the projections run): `tsx bench/register.ts --platform-without-reactions`. */
async function servePlatformWithoutReactions(): Promise<void> {
  const config = loadConfig();
  const platform = await startPlatform(config, { consumers: [] });
  await platform.http.listen({ port: config.port, host: config.host });
  process.once('SIGTERM', () => void platform.stop().then(() => process.exit(0)));
}

/** This file as a server (`mode`: --baseline or --platform-without-reactions) in a child process. */
async function startBenchProcess(mode: string, env: Record<string, string>): Promise<PlatformProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'bench/register.ts', mode], {
    env: { ...process.env, PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    `${mode} on ${url}`,
    async () => {
      if (child.exitCode !== null) throw new Error(`${mode} exited: ${output}`);
      return (await fetch(`${url}/ready`)).ok;
    },
    120_000,
  );
  return {
    url,
    child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Load: CONCURRENCY clients, each with its own request in flight, for SECONDS after a warm-up.

interface LoadResult {
  rate: number;
  p50: number;
  p99: number;
  ok: number;
  other: Map<number, number>;
  /** CPU milliseconds per 201 in the window: the server process's and its PostgreSQL backends'. */
  cpu: { serverMs: number; databaseMs: number | null } | null;
}

const post = (agent: http.Agent, url: URL, body: string, key: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const request = http.request(
      {
        agent,
        hostname: url.hostname,
        port: url.port,
        path: '/register',
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'idempotency-key': key,
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });

async function load(baseUrl: string, readCpu?: () => Promise<CpuReading>): Promise<LoadResult> {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const run = randomBytes(4).toString('hex');
  let next = 0;
  let measuring = false;
  let stopping = false;
  const latencies: number[] = [];
  const other = new Map<number, number>();
  const client = async () => {
    while (!stopping) {
      const n = next++;
      const body = JSON.stringify({
        email: `bench-${run}-${n}@example.com`,
        name: `Bench ${n}`,
        planId: PLAN_ID,
        paymentMethod: 'pm_card_visa',
      });
      const started = performance.now();
      const status = await post(agent, url, body, `bench-${run}-${n}`).catch(() => 0);
      if (!measuring) continue;
      if (status === 201) latencies.push(performance.now() - started);
      else other.set(status, (other.get(status) ?? 0) + 1);
    }
  };
  const clients = Array.from({ length: CONCURRENCY }, client);
  await sleep(WARMUP_MS);
  measuring = true;
  const start = performance.now();
  const cpuBefore = await readCpu?.();
  await sleep(SECONDS * 1000);
  const cpuAfter = await readCpu?.();
  measuring = false;
  const elapsed = performance.now() - start;
  const cpu = cpuBefore && cpuAfter ? cpuBetween(cpuBefore, cpuAfter) : null;
  stopping = true;
  await Promise.all(clients);
  agent.destroy();
  return {
    rate: (latencies.length * 1000) / elapsed,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    ok: latencies.length,
    other,
    cpu: cpu && {
      serverMs: cpu.serverMs / latencies.length,
      databaseMs: cpu.databaseMs === null ? null : cpu.databaseMs / latencies.length,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Backends: where each server keeps its data.

const cleanups: (() => Promise<unknown>)[] = [];

const tempDir = async (prefix: string) => {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
};

/** A schema of its own (dropped at the end); its DATABASE_URL is `postgresUrl(schema)`. */
const freshSchema = async () => {
  const { schema, drop } = await freshDatabaseUrl('bench');
  cleanups.push(drop);
  return schema;
};

const postgresUrl = (schema: string) => `${TEST_DATABASE_URL}?options=-c%20search_path%3D${schema}`;

async function kafkaBrokers(): Promise<string | null> {
  if (process.env.KAFKA_BROKERS) return process.env.KAFKA_BROKERS;
  try {
    await promisify(execFile)('bash', ['scripts/kafka/start.sh'], { timeout: 600_000 });
    return `127.0.0.1:${process.env.KAFKA_PORT ?? '9092'}`;
  } catch (error) {
    console.warn(`no Kafka broker (${(error as Error).message.split('\n')[0]}): the PostgreSQL + Kafka row is skipped`);
    return null;
  }
}

const common = {
  ADMIN_TOKEN,
  LOG_LEVEL: 'warn',
  REGISTER_RATE_LIMIT: '100000000',
  KAFKA_BROKERS: '',
  DATABASE_URL: '',
  SAGA_CRASH_AT: '',
};

// ---------------------------------------------------------------------------------------------
// Round trips: the platform in this process, its Database wrapped.

type Counter = Map<string, number>;

const classify = (text: string): string => {
  if (/\b(sagas|saga_steps)\b/.test(text))
    return /^\s*select/i.test(text)
      ? 'saga state reads (select sagas, saga_steps)'
      : 'saga state writes (start, lease, step start, step checkpoint with its history append)';
  if (/append_events/.test(text)) return 'event append (append_events)';
  if (/\bfrom events\b/.test(text)) return 'stream reads (deciders)';
  if (/gateway_/.test(text)) return 'payment gateway simulator (gateway_charges)';
  if (/http_idempotency|customer_emails/.test(text)) return 'registration service (key, email)';
  if (/payment_methods|subscription_timers/.test(text)) return 'renewal bookkeeping';
  if (text === 'BEGIN' || text === 'COMMIT') return 'transaction BEGIN/COMMIT';
  return 'other';
};

function instrument(db: Database, context: AsyncLocalStorage<Counter>): void {
  const count = (text: string) => {
    const counter = context.getStore();
    if (!counter) return;
    const kind = classify(text);
    counter.set(kind, (counter.get(kind) ?? 0) + 1);
  };
  const wrap = (sql: Sql): Sql => ({
    query: ((text: string, params?: unknown[], options?: QueryOptions) => (
      count(text),
      sql.query(text, params, options)
    )) as Sql['query'],
    exec: (text: string) => (count(text), sql.exec(text)),
    onCommit: (callback) => sql.onCommit(callback),
  });
  const { query, exec, transaction } = {
    query: db.query.bind(db),
    exec: db.exec.bind(db),
    transaction: db.transaction.bind(db),
  };
  // Every service holds this very object: replacing its methods counts everyone's statements.
  const mutable = db as { -readonly [K in keyof Database]: Database[K] };
  // The options kept: a prepared statement stays prepared (counting must not change what is counted).
  mutable.query = ((text: string, params?: unknown[], options?: QueryOptions) => (
    count(text),
    query(text, params, options)
  )) as Database['query'];
  mutable.exec = (text: string) => (count(text), exec(text));
  mutable.transaction = ((fn: (tx: Sql) => Promise<unknown>) => {
    count('BEGIN');
    count('COMMIT');
    return transaction((tx) => fn(wrap(tx)));
  }) as Database['transaction'];
}

async function countRoundTrips(env: Record<string, string>): Promise<{ perRegistration: Counter; n: number }> {
  const platform = await startPlatform(loadConfig({ ...common, LOG_LEVEL: 'silent', ...env }), {
    log: silentLogger,
    consumers: [],
  });
  try {
    await platform.started;
    const context = new AsyncLocalStorage<Counter>();
    instrument(platform.db, context);
    const total: Counter = new Map();
    const run = randomBytes(4).toString('hex');
    for (let n = 0; n < COUNT_N; n++) {
      const counter: Counter = new Map();
      // What the POST /register handler calls (the HTTP layer itself makes no statement); called
      // directly because Fastify's inject does not keep the caller's async context.
      const registration = await context.run(counter, () =>
        platform.registrations.register(
          {
            email: `count-${run}-${n}@example.com`,
            name: `Count ${n}`,
            planId: PLAN_ID,
            paymentMethod: 'pm_card_visa',
          },
          { idempotencyKey: `count-${run}-${n}`, waitMs: 30_000, correlationId: `count-${n}` },
        ),
      );
      if (registration.status !== 'completed') throw new Error(`registration ${n}: ${registration.status}`);
      for (const [kind, value] of counter) total.set(kind, (total.get(kind) ?? 0) + value);
    }
    if (total.size === 0) throw new Error('no statement was attributed to the registrations');
    return { perRegistration: new Map([...total].map(([kind, value]) => [kind, value / COUNT_N])), n: COUNT_N };
  } finally {
    await platform.stop();
  }
}

// ---------------------------------------------------------------------------------------------

interface Row {
  backend: string;
  server: string;
  result: LoadResult | null;
  baseline: LoadResult | null;
  note?: string;
}

/** Starts a server (its PostgreSQL connections named `applicationName`, PGAPPNAME) and loads it. */
async function measure(start: (env: { PGAPPNAME: string }) => Promise<PlatformProcess>): Promise<LoadResult> {
  const applicationName = `bench-register-${randomBytes(4).toString('hex')}`;
  const server = await start({ PGAPPNAME: applicationName });
  try {
    await waitFor('/ready', async () => (await fetch(`${server.url}/ready`)).ok, 120_000);
    return await load(server.url, () => readCpu(TEST_DATABASE_URL, server.child.pid!, applicationName));
  } finally {
    await server.stop('SIGTERM');
  }
}

const totalCpu = (result: LoadResult) =>
  result.cpu && result.cpu.databaseMs !== null ? result.cpu.serverMs + result.cpu.databaseMs : null;

const describeCpu = (result: LoadResult) =>
  result.cpu
    ? `${fmtMs(result.cpu.serverMs)} + ${result.cpu.databaseMs === null ? '—' : fmtMs(result.cpu.databaseMs)}`
    : '—';

const cpuRatio = (baseline: LoadResult, result: LoadResult) => {
  const [ours, theirs] = [totalCpu(result), totalCpu(baseline)];
  return ours && theirs ? fmtRatio(theirs / ours) : '—';
};

const describeOther = (result: LoadResult) =>
  [...result.other].map(([status, count]) => `${count}×${status || 'error'}`).join(', ') || '0';

type Trips = { backend: string; perRegistration: Counter; n: number }[];

const sum = (counter: Counter, filter: (kind: string) => boolean = () => true) =>
  [...counter].filter(([kind]) => filter(kind)).reduce((total, [, value]) => total + value, 0);

/** Statements per registration on PGlite and on PostgreSQL. */
async function countStatements(): Promise<Trips> {
  console.error('counting round trips...');
  return [
    { backend: 'embedded (PGlite)', ...(await countRoundTrips({ DATA_DIR: await tempDir('bench-count-') })) },
    {
      backend: 'PostgreSQL',
      ...(await countRoundTrips({
        DATA_DIR: await tempDir('bench-count-'),
        DATABASE_URL: postgresUrl(await freshSchema()),
      })),
    },
  ];
}

function printStatements(trips: Trips): void {
  const kinds = [...new Set(trips.flatMap((trip) => [...trip.perRegistration.keys()]))].sort();
  const notGateway = (kind: string) => !kind.startsWith('payment gateway');
  printTable(
    `Database round trips per registration (${COUNT_N} registrations, one at a time)`,
    ['statements', ...trips.map((trip) => trip.backend)],
    [
      ...kinds.map((kind) => [kind, ...trips.map((trip) => (trip.perRegistration.get(kind) ?? 0).toFixed(2))]),
      ['**total per registration**', ...trips.map((trip) => `**${sum(trip.perRegistration).toFixed(1)}**`)],
      [
        `**per saga step** (÷ ${SAGA_STEPS})`,
        ...trips.map((trip) => `**${(sum(trip.perRegistration) / SAGA_STEPS).toFixed(1)}**`),
      ],
      [
        `per saga step without the gateway simulator's own statements`,
        ...trips.map((trip) => (sum(trip.perRegistration, notGateway) / SAGA_STEPS).toFixed(1)),
      ],
      [
        `goal ≤ ${GOAL_STATEMENTS} per registration`,
        ...trips.map((trip) => verdict(sum(trip.perRegistration) <= GOAL_STATEMENTS)),
      ],
    ],
    [
      'counted by wrapping the Database: each query/exec is one round trip, a transaction adds BEGIN and COMMIT; only statements made on behalf of the registration (AsyncLocalStorage), not the pollers.',
    ],
  );
}

/** A configuration's rounds: median rate, latencies and CPU, its rate's range, its ratio to each round's baseline. */
interface Rounds {
  server: string;
  results: LoadResult[];
}

const range = (values: readonly number[], format: (value: number) => string) =>
  values.length > 1 ? ` (${format(Math.min(...values))}–${format(Math.max(...values))})` : '';

/** Median CPU per registration of the rounds (server + PostgreSQL), as one LoadResult's `cpu`. */
function medianCpu(results: readonly LoadResult[]): LoadResult['cpu'] {
  const cpus = results.flatMap((result) => (result.cpu ? [result.cpu] : []));
  if (cpus.length === 0) return null;
  const database = cpus.flatMap((cpu) => (cpu.databaseMs === null ? [] : [cpu.databaseMs]));
  return {
    serverMs: median(cpus.map((cpu) => cpu.serverMs)),
    databaseMs: database.length > 0 ? median(database) : null,
  };
}

/** What the table shows of a configuration: medians of its rounds, its non-201s summed. */
function summary({ results }: Rounds): LoadResult {
  const other = new Map<number, number>();
  for (const result of results)
    for (const [status, count] of result.other) other.set(status, (other.get(status) ?? 0) + count);
  return {
    rate: median(results.map((result) => result.rate)),
    p50: median(results.map((result) => result.p50)),
    p99: median(results.map((result) => result.p99)),
    ok: results.reduce((total, result) => total + result.ok, 0),
    other,
    cpu: medianCpu(results),
  };
}

/**
 * `--postgres`: the goal's rows alone, PostgreSQL with the embedded bus beside its baseline;
 * `--rounds N` measures them in turn N times (this machine moves ±20% from one minute to the next).
 */
async function mainPostgres(): Promise<void> {
  const roundCount = Number(args.rounds ?? 1);
  if (!Number.isInteger(roundCount) || roundCount < 1)
    throw new Error(`--rounds takes a whole number of rounds (1 or more), not ${args.rounds}`);
  const platform = async () => ({
    DATA_DIR: await tempDir('bench-register-'),
    DATABASE_URL: postgresUrl(await freshSchema()),
  });
  const servers: [string, (env: { PGAPPNAME: string }) => Promise<PlatformProcess>][] = [
    [
      'baseline',
      async (env) =>
        startBenchProcess('--baseline', {
          BASELINE_DATABASE_URL: TEST_DATABASE_URL,
          BASELINE_SCHEMA: await freshSchema(),
          ...env,
        }),
    ],
    // What the baseline does (HTTP and the writes, no view): the API role alone, as a scaled-out deployment runs it.
    [
      'saga, API role alone',
      async (env) =>
        startPlatformProcess(
          { ...common, ...(await platform()), ...env, TRIBUTARY_ROLES: 'api' },
          { waitForHealth: true, compiled: true },
        ),
    ],
    [
      'saga, reactions off',
      async (env) => startBenchProcess('--platform-without-reactions', { ...common, ...(await platform()), ...env }),
    ],
    [
      'saga (npm start)',
      async (env) =>
        startPlatformProcess({ ...common, ...(await platform()), ...env }, { waitForHealth: true, compiled: true }),
    ],
  ];
  try {
    const rounds: Rounds[] = servers.map(([server]) => ({ server, results: [] }));
    for (let round = 1; round <= roundCount; round++) {
      for (const [index, [server, start]] of servers.entries()) {
        console.error(`round ${round} of ${roundCount}: ${server} on PostgreSQL...`);
        const result = await measure(start);
        if (server === 'baseline' && (result.ok === 0 || result.other.size > 0))
          throw new Error(`the PostgreSQL baseline answered ${describeOther(result)} non-201 and ${result.ok} 201s`);
        rounds[index]!.results.push(result);
      }
    }
    const [baselineRounds] = rounds as [Rounds, ...Rounds[]];
    const baseline = summary(baselineRounds);
    // Each round's rate over the same round's baseline: a slow minute of the machine slows both.
    const rows = rounds.map((each) => {
      const ratios = each.results.map((result, round) => result.rate / baselineRounds.results[round]!.rate);
      return { ...each, result: summary(each), ratios, ratio: median(ratios) };
    });
    const several = roundCount > 1;
    printTable(
      `POST /register, ${CONCURRENCY} concurrent clients over HTTP, ${SECONDS} s each${several ? `, ${roundCount} rounds in turn (medians; the range in brackets)` : ''} (PostgreSQL, embedded bus)`,
      [
        'server',
        'registrations/s',
        'p50 ms',
        'p99 ms',
        'non-201',
        'vs baseline (rate)',
        `goal ≥ ${GOAL_VS_BASELINE}×, p99 < ${GOAL_P99_MS} ms`,
        'CPU ms per registration: server + PostgreSQL',
        'baseline CPU ÷ this CPU',
      ],
      rows.map(({ server, results, result, ratios, ratio }) => {
        const isBaseline = server === 'baseline';
        return [
          server,
          fmtInt(result.rate) +
            range(
              results.map((each) => each.rate),
              fmtInt,
            ),
          fmtMs(result.p50),
          fmtMs(result.p99) +
            range(
              results.map((each) => each.p99),
              fmtMs,
            ),
          describeOther(result),
          isBaseline ? '—' : fmtRatio(ratio) + range(ratios, fmtRatio),
          isBaseline ? '—' : verdict(ratio >= GOAL_VS_BASELINE && result.p99 < GOAL_P99_MS),
          describeCpu(result),
          isBaseline ? '—' : cpuRatio(baseline, result),
        ];
      }),
      [
        `${await machine()}; client, server and database share the machine.`,
        'API role alone: `npm start` with TRIBUTARY_ROLES=api, as the API servers of a scaled-out deployment run (what the baseline does: HTTP and the writes, no view); reactions off: the API and the three projections in one process; npm start: every role.',
        'CPU per registration: the server process and the PostgreSQL backends it opened, from /proc over the measured window; on two shared cores the rate follows it (the ratio of CPU is the ratio a CPU-bound run can reach).',
        ...(several
          ? [
              "Rounds: every server measured once per round, in the order of the table; a ratio is the median over the rounds of the rate divided by the same round's baseline rate.",
            ]
          : []),
      ],
    );
    await writeJsonRows(
      args.json,
      'register',
      rows.flatMap(({ server, results, ratios }) =>
        results.map((r, round) => ({
          table: 'http',
          backend: 'PostgreSQL (embedded bus)',
          server,
          round: round + 1,
          registrationsPerSecond: r.rate,
          p50Ms: r.p50,
          p99Ms: r.p99,
          non201: Object.fromEntries(r.other),
          vsBaseline: ratios[round],
          cpuMsPerRegistration: r.cpu,
        })),
      ),
      { machine: machine(), concurrency: CONCURRENCY, seconds: SECONDS, rounds: roundCount },
    );
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  }
}

async function main(): Promise<void> {
  const brokers = await kafkaBrokers();
  const targets: { backend: string; platform: () => Promise<Record<string, string>>; withoutReactions: boolean }[] = [
    {
      backend: 'embedded (PGlite, embedded bus)',
      platform: async () => ({ DATA_DIR: await tempDir('bench-register-') }),
      withoutReactions: true,
    },
    {
      backend: 'PostgreSQL (embedded bus)',
      platform: async () => ({
        DATA_DIR: await tempDir('bench-register-'),
        DATABASE_URL: postgresUrl(await freshSchema()),
      }),
      withoutReactions: true,
    },
  ];
  if (brokers) {
    targets.push({
      backend: 'PostgreSQL + Kafka (outbox relay)',
      platform: async () => {
        const prefix = `bench-${randomBytes(4).toString('hex')}.`;
        cleanups.push(async () => {
          const admin = new Admin({ clientId: 'bench-cleanup', bootstrapBrokers: brokers.split(',') });
          const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
          if (topics.length) await admin.deleteTopics({ topics }).catch(() => {});
          await admin.close();
        });
        return {
          DATA_DIR: await tempDir('bench-register-'),
          DATABASE_URL: postgresUrl(await freshSchema()),
          KAFKA_BROKERS: brokers,
          KAFKA_TOPIC_PREFIX: prefix,
        };
      },
      withoutReactions: false,
    });
  }

  const rows: Row[] = [];
  try {
    // Baselines first, one per database.
    console.error('baseline on PGlite...');
    const pgliteBaseline = await measure(async (env) =>
      startBenchProcess('--baseline', { BASELINE_DATA_DIR: join(await tempDir('bench-baseline-'), 'store'), ...env }),
    );
    console.error('baseline on PostgreSQL...');
    const pgBaseline = await measure(async (env) => {
      const schema = await freshSchema();
      return startBenchProcess('--baseline', {
        BASELINE_DATABASE_URL: TEST_DATABASE_URL,
        BASELINE_SCHEMA: schema,
        ...env,
      });
    });
    for (const target of targets) {
      console.error(`platform on ${target.backend}...`);
      const baseline = target.backend.startsWith('embedded') ? pgliteBaseline : pgBaseline;
      const result = await measure(async (env) =>
        startPlatformProcess(
          { ...common, ...(await target.platform()), ...env },
          { waitForHealth: true, compiled: true },
        ),
      );
      rows.push({ backend: target.backend, server: 'saga (npm start)', result, baseline });
      if (target.withoutReactions) {
        console.error(`platform on ${target.backend}, reactions off...`);
        const bare = await measure(async (env) =>
          startBenchProcess('--platform-without-reactions', { ...common, ...(await target.platform()), ...env }),
        );
        rows.push({ backend: target.backend, server: 'saga, reactions off', result: bare, baseline });
      }
    }
    for (const [backend, baseline] of [
      ['PGlite', pgliteBaseline],
      ['PostgreSQL', pgBaseline],
    ] as const) {
      // A baseline that errors measures nothing: the bench fails rather than print ratios against it.
      if (baseline.ok === 0 || baseline.other.size > 0)
        throw new Error(`the ${backend} baseline answered ${describeOther(baseline)} non-201 and ${baseline.ok} 201s`);
    }
    console.error("workflow engines alone (DBOS, the platform's)...");
    const engines: EngineResult[] = [await measureEngine('dbos'), await measureEngine('saga')];
    rows.push({ backend: 'embedded (PGlite)', server: 'baseline', result: pgliteBaseline, baseline: pgliteBaseline });
    rows.push({ backend: 'PostgreSQL', server: 'baseline', result: pgBaseline, baseline: pgBaseline });

    const trips = await countStatements();

    const goalRow = (row: Row) => row.server !== 'baseline' && row.backend.startsWith('PostgreSQL');
    printTable(
      `POST /register, ${CONCURRENCY} concurrent clients over HTTP, ${SECONDS} s each`,
      [
        'backend',
        'server',
        'registrations/s',
        'p50 ms',
        'p99 ms',
        'non-201',
        'vs baseline (rate)',
        `goal ≥ ${GOAL_VS_BASELINE}× baseline, p99 < ${GOAL_P99_MS} ms`,
      ],
      rows.map((row) => {
        const r = row.result!;
        return [
          row.backend,
          row.server,
          fmtInt(r.rate),
          fmtMs(r.p50),
          fmtMs(r.p99),
          describeOther(r),
          row.server === 'baseline' ? '—' : fmtRatio(r.rate / row.baseline!.rate),
          goalRow(row) ? verdict(r.rate >= GOAL_VS_BASELINE * row.baseline!.rate && r.p99 < GOAL_P99_MS) : '—',
        ];
      }),
      [
        `${await machine()}; client, server and database share the machine.`,
        'saga (npm start): the platform as `npm start` runs it (child process, LOG_LEVEL=warn), its reactions (emails, audit log) consuming the events on the same cores; saga, reactions off: the same platform with no reaction consumer (its three projections still follow the log, about 0.6 ms of Node and 0.8 ms of PostgreSQL a registration), so the saga machinery and the views differ from the baseline.',
        'baseline: a plain Fastify handler making the same writes in one transaction (idempotency key, email row, gateway charge row, the four events via append_events, renewal rows), no saga.',
        `each client: unique email and Idempotency-Key, pm_card_visa, plan ${PLAN_ID}; ${WARMUP_MS / 1000} s warm-up not counted; latency of 201 answers only.`,
        ...(brokers ? [] : ['PostgreSQL + Kafka: no broker, row skipped.']),
      ],
    );

    printStatements(trips);
    printEngines(engines);
    const platformEngine = engines.find((engine) => !engine.engine.startsWith('DBOS'))!;
    const dbos = engines.find((engine) => engine.engine.startsWith('DBOS'))!;
    console.log(
      `- goal ≥ ${GOAL_VS_DBOS}× DBOS: ${verdict(platformEngine.workflowsPerSecond >= GOAL_VS_DBOS * dbos.workflowsPerSecond)}`,
    );
    await writeJsonRows(
      args.json,
      'register',
      [
        ...rows.map((row) => ({
          table: 'http',
          backend: row.backend,
          server: row.server,
          registrationsPerSecond: row.result!.rate,
          p50Ms: row.result!.p50,
          p99Ms: row.result!.p99,
          non201: Object.fromEntries(row.result!.other),
          vsBaseline: row.result!.rate / row.baseline!.rate,
        })),
        ...trips.map((trip) => ({
          table: 'statements',
          backend: trip.backend,
          perRegistration: Object.fromEntries(trip.perRegistration),
          total: sum(trip.perRegistration),
        })),
        ...engines.map((engine) => ({
          table: 'engines',
          ...engine,
          vsDbos: engine.workflowsPerSecond / dbos.workflowsPerSecond,
        })),
      ],
      { machine: machine(), concurrency: CONCURRENCY, seconds: SECONDS },
    );
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  }
}

if (args.baseline) {
  await serveBaseline();
} else if (args['platform-without-reactions']) {
  await servePlatformWithoutReactions();
} else if (args.statements) {
  try {
    const trips = await countStatements();
    printStatements(trips);
    await writeJsonRows(
      args.json,
      'register',
      trips.map((trip) => ({
        table: 'statements',
        backend: trip.backend,
        perRegistration: Object.fromEntries(trip.perRegistration),
        total: sum(trip.perRegistration),
      })),
      { machine: machine() },
    );
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  }
  process.exit(0);
} else if (args.postgres) {
  await mainPostgres();
  process.exit(0);
} else {
  await main();
  process.exit(0);
}
