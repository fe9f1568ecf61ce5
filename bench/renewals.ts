/**
 * A month-end run: N subscriptions fall due at once, and the renewal scheduler charges them, in
 * one process and then in two processes sharing the work (FOR UPDATE SKIP LOCKED claims):
 * `npm run bench:renewals [-- --n 10000] [--json FILE]`.
 *
 * Each run gets a fresh PostgreSQL schema (TEST_DATABASE_URL) seeded with N monthly subscriptions
 * due at the same instant. The workers are child processes (`--worker`), each with its own pool,
 * clock, gateway simulator client and scheduler; they connect first and start together, and the
 * time is from the start signal to the last one's end. The one-process run is the baseline; after
 * each run the bench checks that every subscription was charged exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { seedEvents } from '../src/domain/events/index.ts';
import { EventCatalog } from '../src/kernel/catalog/catalog.ts';
import { TestClock } from '../src/kernel/clock.ts';
import { migrate } from '../src/kernel/db/migrate.ts';
import { paymentReconciler } from '../src/services/payments/intents/index.ts';
import { openPostgres } from '../src/kernel/db/postgres.ts';
import { silentLogger } from '../src/kernel/logger.ts';
import { EventStore } from '../src/kernel/store/event-store.ts';
import { migrations } from '../src/platform.ts';
import { SimulatedGateway } from '../src/services/payments/gateway/index.ts';
import { SagaOrchestrator } from '../src/kernel/saga/saga-orchestrator.ts';
import { RenewalScheduler } from '../src/services/subscriptions/renewal-scheduler.ts';
import { RENEWAL_DUE, seedDueRenewals } from '../test/support/due-renewals.ts';
import { TEST_DATABASE_URL, uniqueName, adminQuery } from '../test/support/postgres.ts';
import { benchArgs, writeJsonRows } from './json-output.ts';
import { fmtInt, fmtRatio, machine, printTable, progress } from './support.ts';

const args = benchArgs({ n: { type: 'string' }, worker: { type: 'boolean' }, schema: { type: 'string' } });
const RUN_AT = new Date(Date.parse(RENEWAL_DUE) + 3_600_000);

/** A worker: connect, say ready, wait for "go", run every due renewal it can claim, report. */
async function worker(schema: string): Promise<void> {
  const db = await openPostgres({ url: TEST_DATABASE_URL, schema, poolSize: 10 });
  const clock = new TestClock(RUN_AT);
  const gateway = new SimulatedGateway({ clock, store: db });
  const store = new EventStore(db, new EventCatalog(seedEvents), clock);
  const base = { db, store, clock, gateway, log: silentLogger, dunningDays: [1, 3, 5] };
  const sagas = new SagaOrchestrator({ db, store, clock, log: silentLogger, owner: `bench-${process.pid}` });
  const payments = paymentReconciler({ ...base, windowMs: 60_000, sagas });
  const scheduler = new RenewalScheduler({ ...base, sagas, payments, taxRateBps: 0 });
  await db.query('select 1');
  console.log('ready');
  await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));
  const ran = await scheduler.runDue(clock.now());
  console.log(JSON.stringify({ ran, chargeRequests: gateway.counters().chargeRequests }));
  await db.close();
}

interface Worker {
  child: ChildProcess;
  ready: Promise<void>;
  result: Promise<{ ran: number; chargeRequests: number }>;
}

function startWorker(schema: string): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/renewals.ts', '--worker', '--schema', schema], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  let markReady: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const result = new Promise<{ ran: number; chargeRequests: number }>((resolve, reject) => {
    lines.on('line', (line) => (line === 'ready' ? markReady() : line.startsWith('{') && resolve(JSON.parse(line))));
    child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`renewal worker exited with ${code}`))));
  });
  return { child, ready, result };
}

async function run(n: number, processes: number) {
  const schema = uniqueName('bench_renewals');
  const db = await openPostgres({ url: TEST_DATABASE_URL, schema, poolSize: 10 });
  try {
    await migrate(db, migrations);
    progress(`${processes} process(es): seeding ${fmtInt(n)} subscriptions due at once`);
    await seedDueRenewals(db, new EventStore(db, new EventCatalog(seedEvents), new TestClock(RUN_AT)), n);
    const workers = Array.from({ length: processes }, () => startWorker(schema));
    await Promise.all(workers.map((w) => w.ready));
    progress(`${processes} process(es): renewing`);
    const started = performance.now();
    for (const w of workers) w.child.stdin!.write('go\n');
    const results = await Promise.all(workers.map((w) => w.result));
    const ms = performance.now() - started;
    const { rows } = await db.query<{ renewed: string; twice: string }>(
      `select count(distinct data->>'subscriptionId')::text as renewed, (count(*) - count(distinct data->>'subscriptionId'))::text as twice
       from events where type = 'PaymentProcessed' and data->>'purpose' = 'renewal'`,
    );
    const requests = results.reduce((sum, r) => sum + r.chargeRequests, 0);
    if (Number(rows[0]!.renewed) !== n || rows[0]!.twice !== '0' || requests !== n) {
      throw new Error(
        `${processes} process(es): ${rows[0]!.renewed}/${n} renewed, ${rows[0]!.twice} charged twice, ${requests} charge requests`,
      );
    }
    return {
      processes,
      subscriptions: n,
      seconds: ms / 1000,
      renewalsPerSecond: (n * 1000) / ms,
      shares: results.map((r) => r.ran),
    };
  } finally {
    await db.close();
    await adminQuery(`drop schema if exists ${schema} cascade`);
  }
}

async function main(): Promise<void> {
  if (args.worker) return worker(args.schema!);
  const n = Number(args.n ?? 10_000);
  if (!Number.isInteger(n) || n < 1) throw new Error('--n: a positive number of subscriptions');
  const one = await run(n, 1);
  const two = await run(n, 2);
  printTable(
    `Month-end renewals: ${fmtInt(n)} subscriptions due at once (PostgreSQL)`,
    ['processes', 'renewals', 'seconds', 'renewals/s', 'vs one process', 'share per process'],
    [one, two].map((row) => [
      String(row.processes),
      fmtInt(row.subscriptions),
      row.seconds.toFixed(1),
      fmtInt(row.renewalsPerSecond),
      fmtRatio(row.renewalsPerSecond / one.renewalsPerSecond),
      row.shares.map(fmtInt).join(' / '),
    ]),
    [
      'every renewal charged exactly once in both runs (checked: one PaymentProcessed per subscription, one gateway request each)',
      machine(),
    ],
  );
  await writeJsonRows(args.json, 'renewals', [one, two], { machine: machine() });
}

await main();
// Open handles (the workers' pipes, the admin pool) must not keep a finished bench waiting.
process.exit(0);
