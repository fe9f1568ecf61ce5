/**
 * Projection rebuild speed and query latency on PostgreSQL: `npm run bench:projections`.
 *
 * 1. Writes a realistic log (bench/projection-log.ts) of `--events` events (default 1,000,000)
 *    into a schema of its own, dropped at the end, with the customers' keys.
 * 2. Reads it whole with `EventStore.readAllRaw` in the runner's order and batch size: the baseline.
 * 3. Rebuilds each view (`ProjectionRunner.rebuild`: shadow schema, batches of 5,000, swap) and
 *    fills a fresh one with `catchUp` (the live batch size), each right after a raw scan of the
 *    same batch size, so the ratio compares like with like under the same load.
 *    Then the analytics pipeline (a consumer) follows the whole log as a fresh group on the
 *    embedded bus, beside a raw scan in the bus's pages; goal: under a minute.
 * 4. Starts the platform in this process on that schema (embedded bus, no Kafka; the views'
 *    consumers only) and measures each query API's latency under concurrent keep-alive load.
 *
 * Flags: --events N, --months M (history length, 24), --concurrency C (connections, 8),
 * --seconds S (load per endpoint, 5), --no-catch-up, --json FILE (the rows, also written there),
 * --keep (leave the schema in place, its name printed, to EXPLAIN queries or measure again), --reuse SCHEMA (a
 * schema a run with --keep left: no log, scans or rebuilds, only the query latency, after the platform has
 * migrated it, rebuilt the views whose version changed and caught up), --rebuilds (with --reuse: the scans and
 * rebuilds on that log too, not the analytics pipeline, whose consumer group has read it), --views NAME,... (scan and rebuild only these views; the analytics pipeline runs
 * with `analytics`), --no-queries (no query latency, step 4). TEST_DATABASE_URL or DATABASE_URL
 * (postgres://postgres@127.0.0.1:5432/test). Progress goes to stderr (BENCH_QUIET=1 hides it).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { EventCatalog } from '../src/kernel/catalog/catalog.ts';
import { TestClock } from '../src/kernel/clock.ts';
import { loadConfig } from '../src/kernel/config.ts';
import type { Database, Sql } from '../src/kernel/db/database.ts';
import { migrate } from '../src/kernel/db/migrate.ts';
import { openPostgres } from '../src/kernel/db/postgres.ts';
import { silentLogger } from '../src/kernel/logger.ts';
import type { ProjectionDefinition } from '../src/kernel/projections/projection.ts';
import { ProjectionRunner } from '../src/kernel/projections/projection-runner.ts';
import { viewSchemaName } from '../src/kernel/projections/view-database.ts';
import { LOG_START, type LogPosition } from '../src/kernel/store/envelope.ts';
import { EventStore, type EventRow, type ProjectedRow } from '../src/kernel/store/event-store.ts';
import { seedEvents } from '../src/domain/events/index.ts';
import { decryptMany } from '../src/kernel/crypto/personal-data.ts';
import { loadPlans } from '../src/services/plans/index.ts';
import { migrations, startPlatform, type Platform } from '../src/platform.ts';
import { viewModules } from '../src/views/index.ts';
import type { ViewDeps, ViewModule } from '../src/views/view-module.ts';
import { EMBEDDED_PAGE, EmbeddedBus } from '../src/kernel/bus/embedded-bus.ts';
import { defineConsumer } from '../src/kernel/consumers/consumer.ts';
import { ConsumerRunner } from '../src/kernel/consumers/consumer-runner.ts';
import { DeadLetterStore } from '../src/kernel/consumers/dead-letter-store.ts';
import type { RetryPolicy } from '../src/kernel/consumers/retry-policy.ts';
import { analyticsPipeline } from '../src/views/analytics/analytics-pipeline.ts';
import { writeJsonRows } from './json-output.ts';
import { generateLog } from './projection-log.ts';
import { runLoad } from './projection-load.ts';
import { fmtInt, fmtMs, fmtRatio, machine, percentile, printTable, progress, rate, verdict } from './support.ts';

const { values: flags } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    months: { type: 'string', default: '24' },
    concurrency: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '5' },
    'no-catch-up': { type: 'boolean', default: false },
    'no-queries': { type: 'boolean', default: false },
    rebuilds: { type: 'boolean', default: false },
    views: { type: 'string' },
    keep: { type: 'boolean', default: false },
    reuse: { type: 'string' },
    json: { type: 'string' },
  },
});
const EVENTS = Number(flags.events);
const MONTHS = Number(flags.months);
const CONCURRENCY = Number(flags.concurrency);
const LOAD_MS = Number(flags.seconds) * 1000;
const GOAL_RATE = 50_000;
const GOAL_RATIO = 0.5;
const GOAL_P99_MS = 10;
/** The runner's rebuild batch (REBUILD_BATCH in projection-runner.ts). */
const REBUILD_BATCH = 5_000;
const ADMIN_TOKEN = 'bench-admin-token-0123456789';
/** An endpoint slower than this with no load is reported as is, not loaded. */
const SLOW_MS = 1_000;

const BASE_URL = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REUSE = flags.reuse;
const KEEP = flags.keep || REUSE !== undefined;
if (REUSE !== undefined && !/^bench_proj_[0-9a-f]{8}$/.test(REUSE))
  throw new Error(`--reuse ${REUSE}: not a bench schema`);
const schema = REUSE ?? `bench_proj_${randomBytes(4).toString('hex')}`;
/** Steps 2 and 3: on a new log, or on a kept one when asked. */
const REBUILDS = REUSE === undefined || flags.rebuilds;
const VIEWS = flags.views?.split(',');
const measured = (name: string) => VIEWS === undefined || VIEWS.includes(name);
const DATABASE_URL = `${BASE_URL}?options=-c%20search_path%3D${schema}`;

const asAdmin = async (sql: string, params: unknown[] = []) => {
  const client = new pg.Client({ connectionString: BASE_URL });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
};

/** Where a run's time went (apply and prefetch as the definition sees them, decode as the store does). */
interface Profile {
  prefetchMs: number;
  applyMs: number;
  /** Of `applyMs`, waiting for its statements. */
  applySqlMs: number;
  decodeMs: number;
  batches: number;
}

const newProfile = (): Profile => ({ prefetchMs: 0, applyMs: 0, applySqlMs: 0, decodeMs: 0, batches: 0 });

/** The definition with its prefetch and apply timed into `profile`. */
function instrumented(definition: ProjectionDefinition, profile: Profile): ProjectionDefinition {
  const { prefetch } = definition;
  return {
    ...definition,
    prefetch: prefetch
      ? async (events) => {
          const started = performance.now();
          try {
            return await prefetch(events);
          } finally {
            profile.prefetchMs += performance.now() - started;
          }
        }
      : undefined,
    async apply(events, context) {
      const started = performance.now();
      // The transaction with its statements timed: what apply spends in SQL round trips, not in JavaScript.
      const tx: Sql = {
        async query<Row>(text: string, params?: unknown[]) {
          const sent = performance.now();
          try {
            return await context.tx.query<Row>(text, params);
          } finally {
            profile.applySqlMs += performance.now() - sent;
          }
        },
        exec: (text) => context.tx.exec(text),
        onCommit: (callback) => context.tx.onCommit(callback),
      };
      try {
        await definition.apply(events, { ...context, tx });
      } finally {
        profile.applyMs += performance.now() - started;
        profile.batches++;
      }
    },
  };
}

/** An event store whose decoding is timed into `profile`. */
class ProfiledStore extends EventStore {
  profile = newProfile();

  // The options pass through: the runner decodes `trusted` (no validation of what the store validated at append).
  override decode(row: EventRow, options?: { trusted?: boolean }) {
    const started = performance.now();
    const event = super.decode(row, options);
    this.profile.decodeMs += performance.now() - started;
    return event;
  }

  override decodeProjected(row: ProjectedRow, options?: { trusted?: boolean }) {
    const started = performance.now();
    const event = super.decodeProjected(row, options);
    this.profile.decodeMs += performance.now() - started;
    return event;
  }
}

/** Reads the whole log as the runner does, `batch` rows a read; `decode` decodes every row too. */
async function rawScan(store: EventStore, batch: number, decode = false): Promise<{ events: number; ms: number }> {
  const started = performance.now();
  let at: LogPosition = LOG_START;
  let events = 0;
  for (;;) {
    const rows = await store.readAllRaw(at, { limit: batch });
    if (decode) for (const row of rows) store.decode(row);
    events += rows.length;
    if (rows.length < batch) break;
    const last = rows[rows.length - 1]!;
    at = { txId: last.tx_id, position: last.position };
  }
  return { events, ms: performance.now() - started };
}

interface RebuildRow {
  /** Another goal than the views' rate and ratio (the analytics pipeline: the whole log in under a minute). */
  goal?: { text: string; met: (row: RebuildRow) => boolean };
  view: string;
  how: string;
  events: number;
  ms: number;
  scanName: string;
  scanMs: number;
  scanEvents: number;
  profile: Profile;
  applied: number;
}

/**
 * The analytics pipeline as the platform runs it on the embedded bus, from the start of the log:
 * timed until it has handled every event of its types; beside a raw scan in the bus's pages.
 */
async function followWithAnalyticsPipeline(
  db: Database,
  catalog: EventCatalog,
  retry: RetryPolicy,
): Promise<RebuildRow> {
  const clock = new TestClock(undefined, { frozen: true });
  const store = new EventStore(db, catalog, clock);
  const pipeline = analyticsPipeline();
  const types = catalog.typesOf(pipeline.topics);
  const { rows } = await db.query<{ n: string }>('select count(*) as n from events where type = any($1::text[])', [
    types,
  ]);
  const expected = Number(rows[0]!.n);
  const scan = await rawScan(store, EMBEDDED_PAGE);
  let handled = 0;
  const counted = defineConsumer({
    ...pipeline,
    handle: async (event, context) => (await pipeline.handle(event, context), void handled++),
    handleBatch: async (events, context) => (
      await pipeline.handleBatch!(events, context),
      void (handled += events.length)
    ),
  });
  const bus = new EmbeddedBus({ store, catalog, clock, log: silentLogger });
  const runner = new ConsumerRunner(counted, {
    db,
    catalog,
    clock,
    log: silentLogger,
    deadLetters: new DeadLetterStore(db, clock),
    retry,
    publishDeadLetter: async () => {},
  });
  const started = performance.now();
  const subscription = await bus.subscribe(runner);
  while (handled < expected && performance.now() - started < 10 * 60_000) await sleep(50);
  const ms = performance.now() - started;
  await subscription.stop();
  progress(
    `analytics pipeline: ${fmtInt(handled)} of ${fmtInt(expected)} events of its types in ${(ms / 1000).toFixed(1)} s`,
  );
  return {
    view: `analytics pipeline (consumer of ${types.join(', ')}: ${fmtInt(expected)} events)`,
    how: `fresh group, EmbeddedBus (pages of ${fmtInt(EMBEDDED_PAGE)}) + ConsumerRunner`,
    events: scan.events,
    ms,
    scanName: `readAllRaw, ${fmtInt(EMBEDDED_PAGE)} a read`,
    scanMs: scan.ms,
    scanEvents: scan.events,
    profile: newProfile(),
    applied: handled,
    goal: { text: 'the whole log < 60 s', met: (row) => row.applied === expected && row.ms < 60_000 },
  };
}

/** The ids and emails the load asks for, and the log's last instant ("today" for the time series). */
type BenchSample = NonNullable<typeof generated>['sample'] & { lastAt: string };

const cleanups: (() => Promise<void>)[] = [];
const rebuildRows: RebuildRow[] = [];
const latencyRows: string[][] = [];
const notes: string[] = [];
let generated: Awaited<ReturnType<typeof generateLog>> | undefined;
let generationMs = 0;
let vacuumMs = 0;
let failedGoals = 0;

try {
  if (REUSE === undefined) await asAdmin(`create schema ${schema}`);
  if (KEEP) progress(`schema ${schema} is kept: drop schema ${schema} cascade when done`);
  else
    cleanups.push(async () => {
      const rows = await asAdmin(
        'select schema_name as name from information_schema.schemata where schema_name = $1 or schema_name like $2',
        [schema, `${schema}\\_%`],
      );
      for (const { name } of rows as { name: string }[]) await asAdmin(`drop schema if exists ${name} cascade`);
    });
  const db: Database = await openPostgres({ url: DATABASE_URL, poolSize: 8 });
  cleanups.unshift(() => db.close());
  await migrate(db, migrations);

  const config = loadConfig({ ADMIN_TOKEN, DATABASE_URL, CLOCK: 'test', LOG_LEVEL: 'silent' });
  const catalog = new EventCatalog(seedEvents);
  const plans = await loadPlans(config.plansFile);

  const clock = new TestClock(undefined, { frozen: true });
  const liveBatch = config.views.batchSize;
  const depsOf = (module: ViewModule): ViewDeps => {
    const deps: ViewDeps = {
      config,
      clock,
      log: silentLogger,
      catalog,
      db,
      platformDb: db,
      schema: '',
      waitForPosition: async () => {},
      plans,
      churn: { score: () => null },
    };
    deps.schema = viewSchemaName(DATABASE_URL, module.projection(deps).schema);
    return deps;
  };
  let started = performance.now();
  if (REUSE === undefined) {
    // 1. The log.
    progress(`writing ${fmtInt(EVENTS)} events (${MONTHS} months of history) into ${schema}...`);
    started = performance.now();
    generated = await generateLog(db, {
      events: EVENTS,
      months: MONTHS,
      plans: plans.list(),
      catalog,
      dunningDays: config.dunningDays,
    });
    generationMs = performance.now() - started;
    started = performance.now();
    await db.exec('vacuum analyze events');
    await db.exec('vacuum analyze customer_keys');
    vacuumMs = performance.now() - started;
    progress(
      `log written in ${(generationMs / 1000).toFixed(1)} s (${fmtInt(rate(generated.events, generationMs))} events/s), vacuum analyze ${(vacuumMs / 1000).toFixed(1)} s`,
    );
    progress(
      `${fmtInt(generated.customers)} customers (${fmtInt(generated.registered)} registered), ${generated.firstAt.slice(0, 10)} … ${generated.lastAt.slice(0, 10)}`,
    );
    progress(
      [...generated.byType]
        .sort(([, a], [, b]) => b - a)
        .map(([type, n]) => `${type} ${fmtInt(n)}`)
        .join(', '),
    );

    // The personal data decrypts with the keys written (the customer view depends on it).
    const probe = generated.sample.customers
      .slice(0, 20)
      .map((customerId) => ({ customerId, pii: undefined as never }));
    const { rows: probeRows } = await db.query<{ customer_id: string; data: { pii: never } }>(
      `select data->>'customerId' as customer_id, data from events where type = 'CustomerRegistered' and data->>'customerId' = any($1::text[])`,
      [probe.map((item) => item.customerId)],
    );
    const clear = await decryptMany(
      probeRows.map((row) => ({ customerId: row.customer_id, pii: row.data.pii })),
      db,
    );
    const emailOf = new Map(generated.sample.customers.map((id, i) => [id, generated!.sample.emails[i]]));
    for (const row of probeRows) {
      if (clear.get(row.customer_id)?.email !== emailOf.get(row.customer_id))
        throw new Error(`customer ${row.customer_id}: personal data does not decrypt to what was sealed`);
    }
  }
  if (REBUILDS) {
    // 2 and 3. Raw scans and rebuilds, view by view.
    for (const module of viewModules.filter((view) => measured(view.name))) {
      const store = new ProfiledStore(db, catalog, clock);
      const deps = depsOf(module);
      const definition = module.projection(deps);
      if (definition.types.length === 0) {
        notes.push(`The ${module.name} view has no projection yet (no event types): not measured.`);
        continue;
      }
      const applied = async (schemaName: string) =>
        Number(
          (await db.query<{ n: number }>(`select events_applied as n from ${schemaName}.projection_state`)).rows[0]!.n,
        );

      const scan = await rawScan(store, REBUILD_BATCH);
      progress(
        `raw scan (batches of ${fmtInt(REBUILD_BATCH)}): ${fmtInt(scan.events)} events, ${fmtInt(rate(scan.events, scan.ms))}/s`,
      );
      store.profile = newProfile();
      const profile = store.profile;
      const rebuilder = new ProjectionRunner(instrumented(definition, profile), {
        store,
        db,
        schema: deps.schema,
        clock,
        log: silentLogger,
        batchSize: liveBatch,
      });
      await rebuilder.setup();
      started = performance.now();
      await rebuilder.rebuild();
      const ms = performance.now() - started;
      const total = await applied(deps.schema);
      progress(`${module.name} rebuild: ${fmtInt(total)} events, ${fmtInt(rate(total, ms))}/s`);
      rebuildRows.push({
        view: module.name,
        how: `rebuild (shadow, batches of ${fmtInt(REBUILD_BATCH)}, swap)`,
        events: total,
        ms,
        scanName: `readAllRaw, ${fmtInt(REBUILD_BATCH)} a read`,
        scanMs: scan.ms,
        scanEvents: scan.events,
        profile,
        applied: total,
      });

      if (!flags['no-catch-up']) {
        const fresh = `${schema}_cu_${module.name}`;
        const liveScan = await rawScan(store, liveBatch);
        progress(
          `raw scan (batches of ${fmtInt(liveBatch)}): ${fmtInt(liveScan.events)} events, ${fmtInt(rate(liveScan.events, liveScan.ms))}/s`,
        );
        store.profile = newProfile();
        const follower = new ProjectionRunner(instrumented(definition, store.profile), {
          store,
          db,
          schema: fresh,
          clock,
          log: silentLogger,
          batchSize: liveBatch,
        });
        await follower.setup();
        started = performance.now();
        await follower.catchUp();
        const followMs = performance.now() - started;
        const followed = await applied(fresh);
        progress(`${module.name} catch-up: ${fmtInt(followed)} events, ${fmtInt(rate(followed, followMs))}/s`);
        rebuildRows.push({
          view: module.name,
          how: `fresh view, catchUp (batches of ${fmtInt(liveBatch)})`,
          events: followed,
          ms: followMs,
          scanName: `readAllRaw, ${fmtInt(liveBatch)} a read`,
          scanMs: liveScan.ms,
          scanEvents: liveScan.events,
          profile: store.profile,
          applied: followed,
        });
        await db.exec(`drop schema ${fresh} cascade`);
      }
    }

    // 3b. The analytics pipeline, a consumer of three topics: a fresh group reads the whole log on the embedded bus.
    // Not on a kept log: its group has read it already.
    if (measured('analytics') && REUSE === undefined)
      rebuildRows.push(await followWithAnalyticsPipeline(db, catalog, config.retry));
  }
  // What step 4 asks for, kept with the schema for a run with --reuse.
  if (generated && KEEP) {
    await db.exec('create table bench_sample (sample jsonb not null)');
    await db.query('insert into bench_sample values ($1)', [{ ...generated.sample, lastAt: generated.lastAt }]);
  }
  if (!flags['no-queries']) await measureQueries(db, depsOf);
} finally {
  for (const cleanup of cleanups)
    await cleanup().catch((error: unknown) => progress(`cleanup failed: ${(error as Error).message}`));
}

/** Step 4: each query API's latency, the platform started on the bench's schema (its views built). */
async function measureQueries(db: Database, depsOf: (module: ViewModule) => ViewDeps): Promise<void> {
  const { rows: kept } = generated
    ? { rows: [] }
    : await db.query<{ sample: BenchSample }>('select sample from bench_sample');
  const sample: BenchSample = generated ? { ...generated.sample, lastAt: generated.lastAt } : kept[0]!.sample;

  // 4. Query latency: the platform on the same schema, its views already built.
  const dataDir = await mkdtemp(join(tmpdir(), 'tributary-bench-'));
  cleanups.unshift(() => rm(dataDir, { recursive: true, force: true }));
  const platformConfig = loadConfig({
    ...process.env,
    ADMIN_TOKEN,
    DATABASE_URL,
    KAFKA_BROKERS: undefined,
    DATA_DIR: dataDir,
    SMTP_URL: undefined,
    CLOCK: 'test',
    LOG_LEVEL: 'silent',
  });
  // Only the views' consumers (the analytics pipeline's facts feed the time series and cohorts), no reactions.
  const viewConsumers = viewModules.flatMap((module) => module.consumers?.(depsOf(module)) ?? []);
  const platform: Platform = await startPlatform(platformConfig, { log: silentLogger, consumers: viewConsumers });
  cleanups.unshift(() => platform.stop());
  await platform.started;
  if (viewConsumers.length > 0) {
    const started = performance.now();
    progress(`waiting for ${viewConsumers.map((consumer) => consumer.name).join(', ')} to read the log...`);
    for (;;) {
      const lags = await Promise.all(platform.subscriptions.map((subscription) => subscription.lag()));
      if (lags.every((lag) => lag === 0)) break;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    const consumed = performance.now() - started;
    progress(`consumers caught up in ${(consumed / 1000).toFixed(1)} s`);
    notes.push(
      `The views' consumers (${viewConsumers.map((consumer) => consumer.name).join(', ')}) were caught up ${(consumed / 1000).toFixed(1)} s after the platform started, before the load.`,
      'The analytics pipeline had read the log in step 3, with the same consumer group.',
    );
  }
  for (const projection of platform.projections) {
    const lag = await projection.lag();
    if (lag.events > 0)
      throw new Error(`the ${projection.name} view is ${lag.events} events behind at the start of the load`);
  }
  await platform.http.listen({ host: '127.0.0.1', port: 0 });
  const port = (platform.http.server.address() as AddressInfo).port;

  const { customers, subscriptions, emails } = sample;
  const today = new Date(sample.lastAt);
  const day = (offsetDays: number) =>
    new Date(today.getTime() - offsetDays * 24 * 3600 * 1000).toISOString().slice(0, 10);
  const repeat = (count: number, path: (i: number) => string) => Array.from({ length: count }, (_, i) => path(i));
  const endpoints: { name: string; paths: string[] }[] = [
    { name: 'GET /customers/{id}', paths: repeat(customers.length, (i) => `/customers/${customers[i]}`) },
    { name: 'GET /customers?status=registered', paths: ['/customers?status=registered&limit=20'] },
    {
      name: 'GET /customers?email=',
      paths: repeat(emails.length, (i) => `/customers?email=${encodeURIComponent(emails[i]!.toUpperCase())}`),
    },
    {
      name: 'GET /subscriptions/{id}',
      paths: repeat(subscriptions.length, (i) => `/subscriptions/${subscriptions[i]}`),
    },
    {
      name: 'GET /subscriptions?customerId=',
      paths: repeat(customers.length, (i) => `/subscriptions?customerId=${customers[i]}`),
    },
    { name: 'GET /subscriptions?status=active', paths: ['/subscriptions?status=active&limit=20'] },
    { name: 'GET /analytics/summary', paths: ['/analytics/summary'] },
    {
      name: 'GET /analytics/timeseries (mrr, 24 months)',
      paths: [`/analytics/timeseries?metric=mrr&from=${day(730)}&to=${day(0)}&interval=month`],
    },
    {
      name: 'GET /analytics/timeseries (signups, 90 days)',
      paths: [`/analytics/timeseries?metric=signups&from=${day(89)}&to=${day(0)}&interval=day`],
    },
    {
      name: 'GET /analytics/timeseries (revenue, weeks of a year)',
      paths: [`/analytics/timeseries?metric=revenue&from=${day(364)}&to=${day(0)}&interval=week`],
    },
    { name: 'GET /analytics/cohorts', paths: ['/analytics/cohorts'] },
  ];
  for (const endpoint of [
    { name: 'baseline: GET /plans (no database)', paths: ['/plans'], baseline: true },
    ...endpoints,
  ]) {
    const firstStarted = performance.now();
    const first = await platform.http.inject({
      method: 'GET',
      url: endpoint.paths[0]!,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const once = performance.now() - firstStarted;
    if (first.statusCode !== 200) {
      notes.push(`${endpoint.name}: answered ${first.statusCode} (${first.body.slice(0, 100)}): not measured.`);
      latencyRows.push([
        endpoint.name,
        '—',
        '—',
        '—',
        '—',
        '—',
        '—',
        `${first.statusCode}`,
        `< ${GOAL_P99_MS} ms`,
        '❌ not available',
      ]);
      failedGoals++;
      continue;
    }
    if (once > SLOW_MS) {
      // Several at a time would only queue behind each other for minutes.
      notes.push(`${endpoint.name}: one request alone took ${fmtInt(once)} ms: not put under load.`);
      latencyRows.push([
        endpoint.name,
        fmtInt(once),
        '—',
        '—',
        '—',
        '—',
        '—',
        '1 × 200',
        `< ${GOAL_P99_MS} ms`,
        '❌ missed (slow alone)',
      ]);
      failedGoals++;
      continue;
    }
    const load = (concurrency: number, durationMs: number) =>
      runLoad({ port, token: ADMIN_TOKEN, paths: endpoint.paths, concurrency, durationMs });
    await load(CONCURRENCY, Math.min(1_000, LOAD_MS)); // warm-up
    const alone = await load(1, Math.min(2_000, LOAD_MS));
    const loaded = await load(CONCURRENCY, LOAD_MS);
    const p50 = percentile(loaded.latencies, 0.5);
    const p99 = percentile(loaded.latencies, 0.99);
    const others = [alone, loaded].flatMap((result) => [
      ...Object.entries(result.statuses)
        .filter(([status]) => status !== '200')
        .map(([status, n]) => `${n}× ${status}`),
      ...(result.errors > 0 ? [`${result.errors} errors`] : []),
    ]);
    const met = p99 < GOAL_P99_MS && others.length === 0;
    if (!met && !('baseline' in endpoint)) failedGoals++;
    const perSecond = rate(loaded.latencies.length, loaded.elapsedMs);
    progress(
      `${endpoint.name}: alone p50 ${fmtMs(percentile(alone.latencies, 0.5))} ms; under load ${fmtInt(perSecond)} req/s, p50 ${fmtMs(p50)} ms, p99 ${fmtMs(p99)} ms${others.length ? `, ${others.join(', ')}` : ''}`,
    );
    latencyRows.push([
      endpoint.name,
      fmtMs(percentile(alone.latencies, 0.5)),
      fmtMs(percentile(alone.latencies, 0.99)),
      fmtInt(loaded.latencies.length),
      fmtInt(perSecond),
      fmtMs(p50),
      fmtMs(p99),
      others.length ? others.join(', ') : 'all 200',
      'baseline' in endpoint ? '—' : `< ${GOAL_P99_MS} ms`,
      'baseline' in endpoint ? '—' : verdict(met),
    ]);
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const logNote = generated
  ? `Log: ${fmtInt(generated.events)} events (${[...generated.byType]
      .sort(([, a], [, b]) => b - a)
      .map(([type, n]) => `${type} ${fmtInt(n)}`)
      .join(
        ', ',
      )}), ${fmtInt(generated.customers)} customers over ${MONTHS} months, written in ${seconds(generationMs)} (${fmtInt(rate(generated.events, generationMs))} events/s, set-based INSERTs of 5,000 rows) + vacuum analyze ${seconds(vacuumMs)}.`
  : REUSE
    ? `The log of schema ${REUSE} (--reuse)${REBUILDS ? '' : ', no rebuild measured'}.`
    : 'No log was written.';

printTable(
  'Projection rebuild speed (events/s)',
  [
    'view',
    'how',
    'events',
    'seconds',
    'events/s',
    'raw scan (same batch, just before)',
    'raw scan events/s',
    'ratio',
    'goal',
    'met',
    'apply (its SQL) / prefetch / decode, s',
  ],
  rebuildRows.map((row) => {
    const ours = rate(row.events, row.ms);
    const scan = rate(row.scanEvents, row.scanMs);
    const met = row.goal
      ? row.goal.met(row)
      : ours >= GOAL_RATE && ours / scan >= GOAL_RATIO && row.events === row.scanEvents;
    if (!met) failedGoals++;
    const { applyMs, applySqlMs, prefetchMs, decodeMs } = row.profile;
    return [
      row.view,
      row.how,
      row.events === row.scanEvents ? fmtInt(row.events) : `${fmtInt(row.events)} of ${fmtInt(row.scanEvents)}`,
      (row.ms / 1000).toFixed(1),
      fmtInt(ours),
      row.scanName,
      fmtInt(scan),
      fmtRatio(ours / scan),
      row.goal?.text ?? `≥ ${fmtInt(GOAL_RATE)}/s, ≥ ${GOAL_RATIO}×`,
      verdict(met),
      row.goal
        ? '—' // not a projection: its handler is timed whole
        : `${(applyMs / 1000).toFixed(1)} (${(applySqlMs / 1000).toFixed(1)}) / ${(prefetchMs / 1000).toFixed(1)} / ${(decodeMs / 1000).toFixed(1)}`,
    ];
  }),
  [
    `${machine()}; PostgreSQL at ${BASE_URL.replace(/\/\/[^@]*@/, '//')} (schema ${schema}, ${KEEP ? 'kept' : 'dropped after'}).`,
    logNote,
    'events = the projection checkpoint’s count (every event of the log is moved past, its types are applied); the raw scan reads the same log with `EventStore.readAllRaw` and no decoding, right before the run it is compared with.',
    'apply (its SQL) / prefetch / decode: time inside the view’s `apply` (in the batch transaction; in brackets, waiting for its statements), its `prefetch` (customer keys) and `EventStore.decode` (upcast and validation) of its events; the rest is reading the log and the checkpoint. A rebuild, and a catch-up whose batch came full, read the next batch while they apply one: the driver parses that batch on the same thread, so their apply and prefetch include part of the reading.',
    ...notes.filter((note) => note.includes('no projection')),
  ],
);

if (!flags['no-queries'])
  printTable(
    `Query latency (ms), alone and under load (${CONCURRENCY} keep-alive connections, ${LOAD_MS / 1000} s per endpoint, admin token)`,
    ['endpoint', 'alone p50 ms', 'alone p99 ms', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'answers', 'goal p99', 'met'],
    latencyRows,
    [
      'The platform runs in this process on the benchmark schema (embedded bus on PostgreSQL, no reactions); the load runs in a worker thread: a closed loop, each connection sends its next request when the answer arrives. Latency is from sending to the last byte of the answer.',
      `alone: one connection for ${Math.min(2, LOAD_MS / 1000)} s (the query's own cost); then ${CONCURRENCY} connections for ${LOAD_MS / 1000} s (the goal). The baseline row is a route that reads no database: the floor of HTTP, auth and the machine's load.`,
      'Ids and emails are drawn from the log’s registered customers (a new one per request, in turn); list queries ask for a page of 20.',
      ...notes.filter((note) => !note.includes('no projection')),
    ],
  );

if (failedGoals > 0) progress(`${failedGoals} goal(s) missed`);
await writeJsonRows(
  flags.json,
  'projections',
  rebuildRows.map(({ goal, profile, ...row }) => ({ ...row, ...profile, goal: goal?.text ?? null })),
  { latency: latencyRows },
);
