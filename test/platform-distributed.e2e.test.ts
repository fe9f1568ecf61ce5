import { afterAll, describe, expect, inject, it } from 'vitest';
import { startPlatformProcess, type PlatformProcess } from './support/platform-process.ts';
import { postgresAvailable, TEST_DATABASE_URL, uniqueName } from './support/postgres.ts';
import { waitFor } from './support/wait-for.ts';

const readiness = async (platform: PlatformProcess) => {
  const response = await fetch(`${platform.url}/ready`);
  return { status: response.status, body: (await response.json()) as { checks: Record<string, string> } };
};

describe('the platform on PostgreSQL + Kafka', async () => {
  const brokers = inject('kafkaBrokers');
  const skip = !(await postgresAvailable()) || brokers === null;
  if (brokers === null && process.env.REQUIRE_KAFKA === '1') throw new Error('REQUIRE_KAFKA=1 but no Kafka broker');
  const started: PlatformProcess[] = [];
  afterAll(async () => {
    await Promise.all(started.map((platform) => platform.stop()));
  });
  const start = async (env: Record<string, string>) => {
    const platform = await startPlatformProcess({ CLOCK: 'system', ...env });
    started.push(platform);
    return platform;
  };

  it.skipIf(skip)('is ready once PostgreSQL is migrated and the topics exist', async () => {
    const platform = await start({ DATABASE_URL: TEST_DATABASE_URL, KAFKA_BROKERS: brokers!, KAFKA_TOPIC_PREFIX: `${uniqueName('e2e')}.` });
    await waitFor('/ready', async () => (await readiness(platform)).status === 200, 60_000);
    expect((await readiness(platform)).body.checks).toEqual({ store: 'up', bus: 'up' });
    const document = await (await fetch(`${platform.url}/asyncapi.json`)).json();
    expect(JSON.stringify(document.servers)).toContain(brokers!.split(',')[0]);
  });

  it.skipIf(skip)('answers 503 while Kafka is unreachable, logs it, and does not crash', async () => {
    const platform = await start({ DATABASE_URL: TEST_DATABASE_URL, KAFKA_BROKERS: '127.0.0.1:1' });
    await waitFor('a log line about Kafka', () => /kafka: brokers unreachable/.test(platform.output()), 30_000);
    const { status, body } = await readiness(platform);
    expect(status).toBe(503);
    expect(body.checks.bus).toBe('down');
    expect(platform.child.exitCode).toBeNull();
  });

  it.skipIf(skip)('answers 503 while PostgreSQL is unreachable, and does not crash', async () => {
    const platform = await start({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' });
    await waitFor('a log line about the database', () => /database migration failed; retrying/.test(platform.output()), 30_000);
    const { status, body } = await readiness(platform);
    expect(status).toBe(503);
    expect(body.checks.store).toBe('down');
    expect(platform.child.exitCode).toBeNull();
  });
});
