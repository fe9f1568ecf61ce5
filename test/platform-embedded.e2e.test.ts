import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser } from '@asyncapi/parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './support/wait-for.ts';
import { runPlatformToExit, startPlatformProcess, type PlatformProcess } from './support/platform-process.ts';

const METRICS_TOKEN = 'e2e-metrics-token-0123456789';

describe('the platform on its embedded default (npm start)', () => {
  let dataDir: string;
  let platform: PlatformProcess;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tributary-e2e-'));
    platform = await startPlatformProcess({ DATA_DIR: dataDir, METRICS_TOKEN });
  });
  afterAll(async () => {
    await platform?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers /health and, once the store and bus are up, /ready', async () => {
    expect(await (await fetch(`${platform.url}/health`)).json()).toEqual({ status: 'ok' });
    const ready = await waitFor('/ready', async () => {
      const response = await fetch(`${platform.url}/ready`);
      return response.ok ? response : null;
    });
    expect(await ready.json()).toEqual({ status: 'ready', checks: { store: 'up', bus: 'up', views: 'up' } });
  });

  it('serves Prometheus metrics to the holder of METRICS_TOKEN only', async () => {
    expect((await fetch(`${platform.url}/metrics`)).status).toBe(401);
    const response = await fetch(`${platform.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    for (const metric of [
      'tributary_events_appended_total',
      'tributary_consumer_lag_events',
      'tributary_dead_letters_total',
      'tributary_relay_lag_events',
    ]) {
      expect(text).toContain(`# TYPE ${metric}`);
    }
  });

  it('serves a valid AsyncAPI 3 document of the events', async () => {
    const document = await (await fetch(`${platform.url}/asyncapi.json`)).json();
    expect(document.asyncapi).toMatch(/^3\./);
    const diagnostics = await new Parser().validate(document);
    expect(diagnostics.filter((diagnostic) => diagnostic.severity === 0)).toEqual([]);
    expect(Object.keys(document.channels)).toEqual(
      expect.arrayContaining([
        'customer.registered',
        'payment.processed',
        'subscription.created',
        'subscription.renewed',
        'subscription.cancelled',
      ]),
    );
  });

  it('answers an unknown route with problem+json', async () => {
    const response = await fetch(`${platform.url}/no-such-thing`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(await response.json()).toMatchObject({ status: 404, title: 'Not found' });
  });

  it('keeps its data in DATA_DIR and stops gracefully on SIGTERM', async () => {
    const exit = await platform.stop('SIGTERM');
    expect(exit).toBe(0);
    expect(platform.output()).toContain('stopping: finishing in-flight work');
    const again = await startPlatformProcess({ DATA_DIR: dataDir });
    try {
      await waitFor('/ready after a restart', async () => (await fetch(`${again.url}/ready`)).ok);
    } finally {
      expect(await again.stop()).toBe(0);
    }
  });
});

describe('configuration errors', () => {
  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ KAFKA_BROKERS: 'not a broker' }, 'KAFKA_BROKERS'],
    [{ DATABASE_URL: 'mysql://localhost/db' }, 'DATABASE_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
  ])('%o stops the start with one clear line', async (env, name) => {
    const { code, stderr } = await runPlatformToExit(env);
    expect(code).toBe(2);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^tributary: invalid configuration: ${name}=`));
  });
});
