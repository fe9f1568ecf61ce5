import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultBehaviour } from '../src/simulator/customer-behaviour.ts';
import { PlatformClient, SimulatorError } from '../src/simulator/platform-client.ts';
import { monthlyRevenue, summarize, type SimulationSummary } from '../src/simulator/platform-report.ts';
import { Random } from '../src/simulator/random.ts';
import { Simulation, type ProgressListener } from '../src/simulator/simulation.ts';
import { ADMIN_TOKEN, openPlatform, type PlatformFixture } from './support/platform-fixture.ts';
import { startPlatformProcess, type PlatformProcess } from './support/platform-process.ts';
import { waitFor } from './support/wait-for.ts';

/** `tributary simulate ...` as a user runs it. */
function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const { ADMIN_TOKEN: _inherited, ...inherited } = process.env;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'simulate', ...args], {
      env: { ...inherited, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the traffic simulator against an in-process platform', async () => {
  const fixture = (await openPlatform('embedded')) as PlatformFixture;
  let summary: SimulationSummary;
  const months: number[] = [];
  afterAll(async () => fixture?.close());

  beforeAll(async () => {
    const address = await fixture.platform.http.listen({ port: 0, host: '127.0.0.1' });
    const client = new PlatformClient(address, ADMIN_TOKEN);
    const progress: ProgressListener = { month: (month) => void months.push(month) };
    // Cards fail more often than by default, so that three months surely reach dunning.
    const behaviour = { ...defaultBehaviour, cardFailurePerMonth: 0.2 };
    const result = await new Simulation(
      client,
      new Random(20261125),
      { customers: 40, months: 3, concurrency: 4, runId: 'it', behaviour },
      progress,
    ).run();
    summary = await summarize(client, result, 4);
  });

  const count = async (type: string, where = 'true') =>
    Number(
      (
        await fixture.platform.db.query<{ n: string | number }>(
          `select count(*) as n from events where type = $1 and ${where}`,
          [type],
        )
      ).rows[0]!.n,
    );

  it('registers the customers over the months, some declined, as the event store records it', async () => {
    const { registrations, declines, failedRegistrations } = summary;
    expect(registrations.value! + declines.value! + failedRegistrations.value!).toBe(40);
    expect(failedRegistrations).toEqual({ value: 0, source: 'simulator: other answers of POST /register' });
    expect(declines.value).toBeGreaterThan(0);
    expect(registrations.value).toBe(await count('SubscriptionCreated'));
    expect(declines.value).toBe(await count('PaymentFailed', `data->>'purpose' = 'registration'`));
    expect(months).toEqual([1, 2, 3]);
    // The mix: monthly and yearly plans, two currencies.
    const plans = new Set(summary.result.subscriptions.map((s) => s.plan.id));
    expect(summary.result.subscriptions.some((s) => s.plan.interval === 'year')).toBe(true);
    expect(new Set(summary.result.subscriptions.map((s) => s.plan.currency)).size).toBe(2);
    expect(plans.size).toBeGreaterThanOrEqual(4);
  });

  it('reports the renewals and cancellations the platform made, by kind', async () => {
    expect(summary.renewals).toEqual({
      value: await count('SubscriptionRenewed'),
      source: 'platform: GET /subscriptions/{id}',
    });
    expect(summary.renewals.value).toBeGreaterThan(20);
    const { now, atPeriodEnd, paymentFailed } = summary.cancellations;
    expect(now.value).toBe(
      await count('SubscriptionCancelled', `data->>'reason' <> 'payment_failed' and data->>'atPeriodEnd' = 'false'`),
    );
    expect(atPeriodEnd.value).toBe(
      await count('SubscriptionCancelled', `data->>'reason' <> 'payment_failed' and data->>'atPeriodEnd' = 'true'`),
    );
    expect(paymentFailed.value).toBe(await count('SubscriptionCancelled', `data->>'reason' = 'payment_failed'`));
    expect(now.value! + atPeriodEnd.value!).toBeGreaterThan(0);
    expect(await count('SubscriptionPastDue')).toBeGreaterThan(0); // failing cards reached dunning
    expect(summary.statuses.ended ?? 0).toBe(await count('SubscriptionEnded'));
  });

  it('reports the MRR of the subscriptions still running, per currency', async () => {
    const { rows } = await fixture.platform.db.query<{
      data: { subscriptionId: string; price: { amount: number; currency: string }; interval: 'month' | 'year' };
    }>(
      `select data from events e where type = 'SubscriptionCreated' and not exists (
         select 1 from events x where x.data->>'subscriptionId' = e.data->>'subscriptionId'
           and (x.type = 'SubscriptionEnded' or (x.type = 'SubscriptionCancelled' and x.data->>'atPeriodEnd' = 'false')))`,
    );
    const fromSubscriptions = summary.mrr.find((mrr) => mrr.source.startsWith('platform: GET /subscriptions/{id}'));
    expect(fromSubscriptions?.figures).toEqual(monthlyRevenue(rows.map((row) => row.data)));
    expect(fromSubscriptions?.figures.map((figure) => figure.currency)).toEqual(['EUR', 'USD']);
  });
});

describe('the PlatformClient', () => {
  it('waits out a 429 as Retry-After says and retries the registration with the same Idempotency-Key', async () => {
    const seen: { key: string | undefined; at: number }[] = [];
    const server = createServer((request: IncomingMessage, response) => {
      seen.push({ key: request.headers['idempotency-key'] as string | undefined, at: Date.now() });
      response.setHeader('content-type', 'application/json');
      if (seen.length === 1) {
        response
          .writeHead(429, { 'retry-after': '1' })
          .end(JSON.stringify({ type: 'about:blank', title: 'Too Many Requests', status: 429 }));
      } else {
        response.writeHead(201).end(
          JSON.stringify({
            registrationId: 'r',
            customerId: 'c',
            subscriptionId: 's',
            paymentId: 'p',
            status: 'completed',
            position: 7,
            customerToken: 't',
          }),
        );
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const waits: number[] = [];
    try {
      const client = new PlatformClient(
        `http://127.0.0.1:${(server.address() as { port: number }).port}`,
        ADMIN_TOKEN,
        { onRateLimited: (seconds) => void waits.push(seconds) },
      );
      const outcome = await client.register(
        { email: 'a@example.com', name: 'A', planId: 'pro-monthly', paymentMethod: 'pm_card_visa' },
        'sim-key-1',
      );
      expect(outcome).toEqual({ kind: 'completed', customerId: 'c', subscriptionId: 's', position: 7 });
      expect(seen.map((request) => request.key)).toEqual(['sim-key-1', 'sim-key-1']);
      expect(waits).toEqual([1]);
      expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(900); // it waited, not retried at once
    } finally {
      server.close();
    }
  });
});

describe('tributary simulate (the CLI)', () => {
  let dataDir: string;
  let platform: PlatformProcess;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tributary-sim-'));
    platform = await startPlatformProcess(
      { DATA_DIR: dataDir, ADMIN_TOKEN, REGISTER_RATE_LIMIT: '100000', LOG_LEVEL: 'warn' },
      { waitForHealth: false },
    );
    // A busy machine can take its time to start a process through tsx: more than startPlatformProcess's default wait.
    await waitFor(
      `the platform to answer on ${platform.url}`,
      async () => (await fetch(`${platform.url}/health`)).ok,
      110_000,
    );
  });
  afterAll(async () => {
    await platform?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('drives a `tributary start` process and prints its summary; a line per month on a non-terminal stderr', async () => {
    const run = await runCli(['--url', platform.url, '--customers', '12', '--months', '2', '--seed', '7'], {
      ADMIN_TOKEN,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^month 1\/2 /),
      expect.stringMatching(/^month 2\/2 /),
    ]);
    expect(run.stdout).toContain('Simulated 12 customers over 2 months (seed 7)');
    expect(run.stdout).toMatch(/renewals\s+\d+\s+platform: GET \/subscriptions\/\{id\}/);
    expect(run.stdout).toMatch(/MRR EUR\s+€[\d,.]+\s+platform: GET \/subscriptions\/\{id\}/);
  }, 120_000);

  it('refuses bad options (exit 2) and a platform it cannot drive (exit 1) with one line', async () => {
    const [badOption, noToken, refused] = await Promise.all([
      runCli(['--customers', 'many'], { ADMIN_TOKEN }),
      runCli(['--url', platform.url]),
      runCli(['--url', platform.url, '--admin-token', 'not-the-admin-token-at-all']),
    ]);
    expect([badOption.code, badOption.stderr.trim()]).toEqual([
      2,
      'tributary: --customers must be an integer from 1 to 10000000, not "many"',
    ]);
    expect([noToken.code, noToken.stderr.trim()]).toEqual([
      2,
      'tributary: the admin token is needed: --admin-token or ADMIN_TOKEN',
    ]);
    expect([refused.code, refused.stderr.trim()]).toEqual([
      1,
      `tributary simulate: the platform at ${platform.url}/ refused the admin token (--admin-token or ADMIN_TOKEN)`,
    ]);
  }, 120_000);
});

describe('a platform on the wall clock', () => {
  it('cannot be simulated, and the simulator says so in one line', async () => {
    const wallClock = (await openPlatform('embedded', { CLOCK: 'system' })) as PlatformFixture;
    try {
      const address = await wallClock.platform.http.listen({ port: 0, host: '127.0.0.1' });
      const error = await new PlatformClient(address, ADMIN_TOKEN).now().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SimulatorError);
      expect((error as Error).message).toBe(`the platform at ${address} has no test clock (start it with CLOCK=test)`);
    } finally {
      await wallClock.close();
    }
  }, 180_000);
});
