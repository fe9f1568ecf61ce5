import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../kernel/config.ts';
import { silentLogger } from '../kernel/logger.ts';
import { startPlatform } from '../platform.ts';
import type { SimulatedGateway } from '../services/payments/gateway/index.ts';
import type { RegistrationFaults } from '../services/registration/registration-saga.ts';
import { Random } from '../simulator/random.ts';
import type { VerifyReport, Violation } from '../verify/violation.ts';
import { startChaosProcess, type ChaosProcess } from './platform-process.ts';
import { runSchedule, type ChaosTarget, type ScheduleOutcome } from './run-schedule.ts';
import { scheduleOf } from './schedule.ts';

export type Backend = 'pglite' | 'postgres';

export interface CampaignOptions {
  seeds: readonly number[];
  backend: Backend;
  /** SIGKILL the platform (a process of its own) once at a random point of each schedule, and start it again. */
  kills: boolean;
  /** PostgreSQL server for `postgres` (a schema of its own is created and dropped). */
  databaseUrl?: string;
  /** How long verify lets consumers and workflows catch up after a schedule. */
  settleMs?: number;
  /** Steps per schedule (12). */
  length?: number;
  progress?: (line: string) => void;
}

export interface SeedResult extends ScheduleOutcome {
  seed: number;
  kills: number;
  /** Violations that appeared during this schedule (earlier seeds' are not counted again). */
  violations: Violation[];
}

const ADMIN_TOKEN = 'chaos-admin-token-0123456789';
const keyOf = (violation: Violation) => `${violation.kind}:${violation.message}`;

interface Data {
  env: Record<string, string>;
  drop(): Promise<void>;
}

/** A data directory or a PostgreSQL schema of the campaign's own. */
async function freshData(options: CampaignOptions): Promise<Data> {
  if (options.backend === 'pglite') {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-chaos-'));
    return { env: { DATA_DIR: dir }, drop: () => rm(dir, { recursive: true, force: true }) };
  }
  if (!options.databaseUrl) throw new Error('--backend postgres needs DATABASE_URL (or --database-url)');
  const schema = `chaos_${randomBytes(5).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: options.databaseUrl });
    await client.connect();
    await client.query(sql).finally(() => client.end());
  };
  await admin(`create schema ${schema}`);
  const dir = await mkdtemp(join(tmpdir(), 'tributary-chaos-'));
  const url = `${options.databaseUrl}${options.databaseUrl.includes('?') ? '&' : '?'}options=-c%20search_path%3D${schema}`;
  return {
    env: { DATA_DIR: dir, DATABASE_URL: url },
    async drop() {
      // The views live in schemas named after it (<schema>_customer_view, ...).
      for (const view of ['customer_view', 'subscription_view', 'analytics_view'])
        await admin(`drop schema if exists ${schema}_${view} cascade`);
      await admin(`drop schema if exists ${schema} cascade`);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const baseEnv = (data: Data): Record<string, string> => ({
  ...data.env,
  CLOCK: 'test',
  ADMIN_TOKEN,
  LOG_LEVEL: 'silent',
  REGISTER_RATE_LIMIT: '1000000',
  REGISTER_WAIT_MS: '30000',
  CONSUMER_RETRY_BASE_MS: '20',
  CONSUMER_RETRY_MAX_MS: '200',
});

/** The violations a schedule added to those already there. */
function newViolations(report: VerifyReport, known: Set<string>): Violation[] {
  const fresh = report.violations.filter((violation) => !known.has(keyOf(violation)));
  for (const violation of report.violations) known.add(keyOf(violation));
  return fresh;
}

/** Every seed against one platform in this process, its gateway injecting the schedule's faults. */
async function inProcess(options: CampaignOptions, data: Data): Promise<SeedResult[]> {
  const faults: RegistrationFaults = {};
  const platform = await startPlatform(loadConfig(baseEnv(data)), { log: silentLogger, faults });
  const results: SeedResult[] = [];
  const known = new Set<string>();
  const headers = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const target: ChaosTarget = {
    gateway: platform.gateway as SimulatedGateway,
    faults,
    async request(method, url, body) {
      const response = await platform.http.inject({ method, url, headers, ...(body ? { payload: body } : {}) });
      return { status: response.statusCode, json: response.body ? (JSON.parse(response.body) as unknown) : null };
    },
  };
  try {
    await platform.started;
    const runId = randomBytes(3).toString('hex');
    for (const seed of options.seeds) {
      const outcome = await runSchedule(seed, scheduleOf(seed, options.length), target, runId);
      const report = await platform.verify({ settleMs: options.settleMs ?? 15_000 });
      results.push({ seed, ...outcome, kills: 0, violations: newViolations(report, known) });
      options.progress?.(
        `seed ${seed}: ${outcome.workflows} workflows, ${results.at(-1)!.violations.length} new violation(s)`,
      );
    }
  } finally {
    await platform.stop();
  }
  return results;
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });

/** Each seed against the platform as a process, SIGKILLed once at a random moment and started again on the same data. */
async function withKills(options: CampaignOptions, data: Data): Promise<SeedResult[]> {
  const results: SeedResult[] = [];
  const known = new Set<string>();
  // A charge in flight when the process died is the reconciler's (the renewal's claim lapses only after
  // minutes of platform time): a short window lets it settle within verify's wait.
  const env = { ...baseEnv(data), PAYMENT_INTENT_WINDOW_MS: '3000' };
  const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
  const runId = randomBytes(3).toString('hex');
  for (const seed of options.seeds) {
    const port = await freePort();
    let current: Promise<ChaosProcess> = startChaosProcess(env, port);
    const target: ChaosTarget = {
      async request(method, url, body) {
        const { url: base } = await current;
        const response = await fetch(base + url, {
          method,
          headers,
          ...(body ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(60_000),
        });
        const text = await response.text();
        return { status: response.status, json: text ? (JSON.parse(text) as unknown) : null };
      },
    };
    await current;
    // The kill lands somewhere in the schedule: after a random number of milliseconds of it.
    const killAfterMs = new Random(seed ^ 0x5eed).int(200, 3_000);
    let killed = false;
    const kill = () => {
      killed = true;
      current = current.then(async (running) => (await running.kill(), startChaosProcess(env, port)));
    };
    const killer = setTimeout(kill, killAfterMs);
    const outcome = await runSchedule(seed, scheduleOf(seed, options.length), target, runId);
    clearTimeout(killer);
    if (!killed) kill(); // the schedule ended first: the kill lands at its end, before verify
    const settleMs = options.settleMs ?? 20_000;
    const report = (await target.request('GET', `/admin/verify?settleMs=${settleMs}`)).json as VerifyReport;
    await (await current).stop();
    const kills = 1;
    results.push({ seed, ...outcome, kills, violations: newViolations(report, known) });
    options.progress?.(
      `seed ${seed} (killed after ${killAfterMs} ms): ${outcome.workflows} workflows, ${results.at(-1)!.violations.length} new violation(s)`,
    );
  }
  return results;
}

/** Runs the seeds on fresh data of the backend and drops it after. */
export async function runCampaign(options: CampaignOptions): Promise<SeedResult[]> {
  const data = await freshData(options);
  try {
    return options.kills ? await withKills(options, data) : await inProcess(options, data);
  } finally {
    await data.drop();
  }
}
