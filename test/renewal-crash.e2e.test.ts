/**
 * Crash injection for renewals, with real processes: the platform (embedded, CLOCK=test) runs
 * with SAGA_CRASH_AT=renewal/<boundary>, a customer registers, and the clock's advance through
 * the period end SIGKILLs the process inside the renewal workflow. Started again on the same
 * data without it, the platform must finish that renewal (recovery takes the workflow over once
 * its lease, 5 s, has expired): one charge at the gateway, recorded once, the subscription
 * renewed, and `GET /admin/verify` clean once the consumers have caught up.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addMonths } from '../src/domain/subscription/period.ts';
import { startPlatformProcess, type PlatformProcess } from './support/platform-process.ts';
import { waitFor } from './support/wait-for.ts';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };

/** Started (what is due decided), not charged; charged, not recorded; charged, recorded and completed. */
const BOUNDARIES = ['charge:run:before-effect', 'charge:run:after-effect', 'charge:run:after-checkpoint'];

const call = (platform: PlatformProcess, method: 'GET' | 'POST', path: string, body?: object) =>
  fetch(`${platform.url}${path}`, { method, headers: admin, body: body && JSON.stringify(body) });

const waitReady = (platform: PlatformProcess) =>
  waitFor(`${platform.url}/ready`, async () => (await fetch(`${platform.url}/ready`)).ok, 90_000);

describe('a renewal workflow killed at a step boundary finishes after a restart', () => {
  it.each(BOUNDARIES)('renewal/%s', { timeout: 180_000 }, async (boundary) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tributary-renewal-crash-'));
    const env = {
      CLOCK: 'test',
      ADMIN_TOKEN,
      LOG_LEVEL: 'warn',
      DATA_DIR: dataDir,
      DATABASE_URL: '',
      KAFKA_BROKERS: '',
    };
    let platform = await startPlatformProcess({ ...env, SAGA_CRASH_AT: `renewal/${boundary}` });
    try {
      await waitReady(platform);
      const registered = await call(platform, 'POST', '/register', {
        email: `renewal-crash-${randomUUID()}@example.com`,
        name: 'Crash Test',
        planId: 'pro-monthly',
        paymentMethod: 'pm_card_visa',
      });
      expect(registered.status).toBe(201);
      const { subscriptionId } = (await registered.json()) as { subscriptionId: string };
      const now = ((await (await call(platform, 'GET', '/admin/clock')).json()) as { now: string }).now;
      const to = new Date(Date.parse(addMonths(now, 1)) + 3_600_000).toISOString();

      // The advance dies with the process, inside the renewal.
      const advanced = await call(platform, 'POST', '/admin/clock/advance', { to }).then(
        (response) => `answered ${response.status}`,
        () => 'died',
      );
      expect(advanced, platform.output()).toBe('died');
      expect(await platform.stop()).toBeNull(); // killed by its own SIGKILL

      platform = await startPlatformProcess(env);
      await waitReady(platform);
      const renewal = await waitFor(
        'the renewal workflow to complete',
        async () => {
          const page = (await (await call(platform, 'GET', '/admin/workflows?type=renewal')).json()) as {
            items: { id: string; status: string; subscriptionId?: string }[];
          };
          const found = page.items.find((item) => item.subscriptionId === subscriptionId);
          return found?.status === 'completed' ? found : null;
        },
        60_000,
      );
      const { history } = (await (await call(platform, 'GET', `/admin/workflows/${renewal.id}`)).json()) as {
        history: { type: string }[];
      };
      expect(history.map((event) => event.type)).toEqual(['PaymentProcessed', 'SubscriptionRenewed']);
      await waitFor(
        'the money invariants to hold',
        async () => ((await (await call(platform, 'GET', '/admin/verify')).json()) as { ok: boolean }).ok,
        30_000,
      );
    } finally {
      await platform.stop('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
