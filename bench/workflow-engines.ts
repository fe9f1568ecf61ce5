/**
 * Workflow engines alone: four no-op steps, 16 in-process callers, on the same PostgreSQL:
 * DBOS Transact (`@dbos-inc/dbos-sdk`, default settings, its system database created for the run
 * and dropped after) beside the platform's own engine (today's SagaOrchestrator: four external
 * no-op steps, i.e. a checkpoint per step, in a schema of its own). Each engine runs in a child
 * process of its own (`--engine dbos|saga`), so DBOS's singleton and pools never share a process
 * with the other. Used by `npm run bench:register`; alone: `tsx bench/workflow-engines.ts [--json FILE]`.
 */
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { systemClock } from '../src/kernel/clock.ts';
import { migrate } from '../src/kernel/db/migrate.ts';
import { openPostgres } from '../src/kernel/db/postgres.ts';
import { silentLogger } from '../src/kernel/logger.ts';
import { sagaMigrations } from '../src/kernel/saga/migrations.ts';
import { SagaOrchestrator } from '../src/kernel/saga/saga-orchestrator.ts';
import type { SagaStep } from '../src/kernel/saga/saga.ts';
import { adminQuery, TEST_DATABASE_URL, uniqueName } from '../test/support/postgres.ts';
import { benchArgs, writeJsonRows } from './json-output.ts';
import { fmtInt, fmtMs, fmtRatio, machine, percentile, printTable } from './support.ts';

export const CALLERS = Number(process.env.BENCH_CONCURRENCY ?? 16);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_MS = 2_000;
const STEPS = 4;

export interface EngineResult {
  engine: string;
  workflows: number;
  workflowsPerSecond: number;
  p50: number;
  p99: number;
}

/** CALLERS loops, each running one workflow after another; counted after a warm-up. */
async function drive(engine: string, runOne: () => Promise<void>): Promise<EngineResult> {
  let measuring = false;
  let stopping = false;
  const latencies: number[] = [];
  const caller = async () => {
    while (!stopping) {
      const started = performance.now();
      await runOne();
      if (measuring) latencies.push(performance.now() - started);
    }
  };
  const callers = Array.from({ length: CALLERS }, caller);
  await sleep(WARMUP_MS);
  measuring = true;
  const start = performance.now();
  await sleep(SECONDS * 1000);
  measuring = false;
  const elapsed = performance.now() - start;
  stopping = true;
  await Promise.all(callers);
  return {
    engine,
    workflows: latencies.length,
    workflowsPerSecond: (latencies.length * 1000) / elapsed,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
  };
}

async function runDbos(): Promise<EngineResult> {
  const database = uniqueName('bench_dbos');
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${database}`;
  const { DBOS } = await import('@dbos-inc/dbos-sdk');
  const noop = async () => {};
  const workflow = DBOS.registerWorkflow(
    async () => {
      for (let step = 1; step <= STEPS; step++) await DBOS.runStep(noop, { name: `step-${step}` });
    },
    { name: 'four-noop-steps' },
  );
  DBOS.setConfig({ name: 'tributary-bench', systemDatabaseUrl: url.toString() });
  await DBOS.launch();
  try {
    const result = await drive('DBOS Transact 5.3', () => workflow());
    const { rows } = await pgQuery(
      url.toString(),
      `select count(*)::int as n from dbos.workflow_status where status = 'SUCCESS'`,
    );
    if ((rows[0]?.n ?? 0) < result.workflows)
      throw new Error(`DBOS recorded ${rows[0]?.n} successful workflows, fewer than the ${result.workflows} counted`);
    return result;
  } finally {
    await DBOS.shutdown();
    await adminQuery(`drop database if exists ${database} with (force)`);
  }
}

async function pgQuery(connectionString: string, text: string): Promise<{ rows: { n: number }[] }> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

async function runSaga(): Promise<EngineResult> {
  const schema = uniqueName('bench_saga');
  const db = await openPostgres({ url: TEST_DATABASE_URL, schema, poolSize: 20 });
  try {
    await migrate(db, sagaMigrations);
    const sagas = new SagaOrchestrator({
      db,
      clock: systemClock,
      log: silentLogger,
      owner: `${hostname()}:${process.pid}`,
    });
    const step = (name: string): SagaStep<object> => ({ name, local: false, run: async () => ({ ok: {} }) });
    sagas.register({ type: 'four-noop-steps', steps: Array.from({ length: STEPS }, (_, i) => step(`step-${i + 1}`)) });
    const result = await drive('platform (SagaOrchestrator)', async () => {
      const record = await sagas.start('four-noop-steps', randomUUID(), {});
      if (record.status !== 'completed') throw new Error(`saga ${record.id} ended ${record.status}`);
    });
    await sagas.stop();
    return result;
  } finally {
    await db.close();
    await adminQuery(`drop schema if exists ${schema} cascade`);
  }
}

/** One engine in a child process; its result on stdout's last line. */
export function measureEngine(engine: 'dbos' | 'saga'): Promise<EngineResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/workflow-engines.ts', '--engine', engine], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.once('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last) as EngineResult);
      else reject(new Error(`${engine} engine bench failed (exit ${code}): ${err.slice(-2000)}`));
    });
  });
}

export function printEngines(rows: readonly EngineResult[]): void {
  const dbos = rows.find((row) => row.engine.startsWith('DBOS'))!;
  printTable(
    `Workflow engines alone: ${STEPS} no-op steps, ${CALLERS} in-process callers, ${SECONDS} s each (PostgreSQL)`,
    ['engine', 'workflows/s', 'p50 ms', 'p99 ms', 'vs DBOS'],
    rows.map((row) => [
      row.engine,
      fmtInt(row.workflowsPerSecond),
      fmtMs(row.p50),
      fmtMs(row.p99),
      fmtRatio(row.workflowsPerSecond / dbos.workflowsPerSecond),
    ]),
    [
      "DBOS: default settings, system database on the same PostgreSQL; platform: four external steps (one checkpoint each) with today's SagaOrchestrator.",
    ],
  );
}

if (process.argv[1]?.endsWith('workflow-engines.ts')) {
  const args = benchArgs({ engine: { type: 'string' } });
  if (args.engine === 'dbos' || args.engine === 'saga') {
    const result = args.engine === 'dbos' ? await runDbos() : await runSaga();
    console.log(JSON.stringify(result));
    process.exit(0);
  } else {
    const rows = [await measureEngine('dbos'), await measureEngine('saga')];
    printEngines(rows);
    console.log(`- ${machine()}`);
    await writeJsonRows(args.json, 'workflow-engines', rows, { machine: machine() });
  }
}
