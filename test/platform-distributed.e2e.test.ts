import { afterAll, describe, expect, inject, it } from 'vitest';
import { startPlatformProcess, type PlatformProcess } from './support/platform-process.ts';
import { freshDatabaseUrl, postgresAvailable, uniqueName } from './support/postgres.ts';
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
  const schemas: { url: string; drop(): Promise<void> }[] = [];
  afterAll(async () => {
    await Promise.all(started.map((platform) => platform.stop()));
    await Promise.all(schemas.map((schema) => schema.drop()));
  });
  const database = async () => {
    const schema = await freshDatabaseUrl();
    schemas.push(schema);
    return schema.url;
  };
  const start = async (env: Record<string, string>) => {
    const platform = await startPlatformProcess({ CLOCK: 'system', ...env });
    started.push(platform);
    return platform;
  };

  it.skipIf(skip)('is ready once PostgreSQL is migrated and the topics exist', async () => {
    const platform = await start({
      DATABASE_URL: await database(),
      KAFKA_BROKERS: brokers!,
      KAFKA_TOPIC_PREFIX: `${uniqueName('e2e')}.`,
    });
    await waitFor('/ready', async () => (await readiness(platform)).status === 200, 60_000);
    expect((await readiness(platform)).body.checks).toEqual({ store: 'up', bus: 'up', views: 'up' });
    const document = await (await fetch(`${platform.url}/asyncapi.json`)).json();
    expect(JSON.stringify(document.servers)).toContain(brokers!.split(',')[0]);
  });

  it.skipIf(skip)('registers through a payment gateway running as its own service', async () => {
    const apiKey = 'gateway-key-0123456789abcdef';
    const gateway = await startPlatformProcess(
      { DATABASE_URL: await database(), PAYMENT_GATEWAY_API_KEY: apiKey },
      { command: 'gateway' },
    );
    started.push(gateway);
    const platform = await start({
      DATABASE_URL: await database(),
      KAFKA_BROKERS: brokers!,
      KAFKA_TOPIC_PREFIX: `${uniqueName('e2e')}.`,
      PAYMENT_GATEWAY_URL: gateway.url,
      PAYMENT_GATEWAY_API_KEY: apiKey,
    });
    await waitFor('/ready', async () => (await readiness(platform)).status === 200, 60_000);
    const register = (paymentMethod: string) =>
      fetch(`${platform.url}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          email: `${uniqueName('gw')}@example.com`,
          name: 'Gus',
          planId: 'pro-monthly',
          paymentMethod,
        }),
      });
    expect((await register('pm_card_visa')).status).toBe(201);
    const declined = await register('pm_card_chargeDeclinedExpiredCard');
    expect(declined.status).toBe(402);
    expect(await declined.json()).toMatchObject({ declineCode: 'expired_card' });
  });

  it.skipIf(skip)('answers 503 while Kafka is unreachable, logs it, and does not crash', async () => {
    const platform = await start({ DATABASE_URL: await database(), KAFKA_BROKERS: '127.0.0.1:1' });
    await waitFor('a log line about Kafka', () => /kafka: brokers unreachable/.test(platform.output()), 30_000);
    const { status, body } = await readiness(platform);
    expect(status).toBe(503);
    expect(body.checks.bus).toBe('down');
    expect(platform.child.exitCode).toBeNull();
  });

  it.skipIf(skip)('answers 503 while PostgreSQL is unreachable, and does not crash', async () => {
    const platform = await start({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' });
    await waitFor(
      'a log line about the database',
      () => /database migration failed; retrying/.test(platform.output()),
      30_000,
    );
    const { status, body } = await readiness(platform);
    expect(status).toBe(503);
    expect(body.checks.store).toBe('down');
    expect(platform.child.exitCode).toBeNull();
  });
});
