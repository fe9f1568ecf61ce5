import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startPlatformProcess, type PlatformProcess } from './support/platform-process.ts';
import { freshDatabaseUrl, postgresAvailable, TEST_DATABASE_URL } from './support/postgres.ts';
import { waitFor } from './support/wait-for.ts';

/**
 * The first seconds of a start: the HTTP server answers at once, the store is still being
 * migrated. A request that needs the store is told to come back (503 problem+json, Retry-After),
 * never a database error, and nothing of it is written.
 */
describe('a platform whose store is still being prepared', async () => {
  const skip = !(await postgresAvailable());
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it.skipIf(skip)(
    'answers 503 starting to the API, its probes and documents at once, and 201 once migrated',
    async () => {
      const { schema, url, drop } = await freshDatabaseUrl('starting');
      cleanups.push(drop);
      // Holds the migrations' lock of that schema: the platform's migration waits behind it.
      const holder = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await holder.connect();
      cleanups.push(() => holder.end());
      await holder.query('begin');
      await holder.query(`select pg_advisory_xact_lock(hashtext($1 || '.tributary_migrations'))`, [schema]);

      const platform: PlatformProcess = await startPlatformProcess({
        DATABASE_URL: url,
        KAFKA_BROKERS: '',
        CLOCK: 'system',
      });
      cleanups.push(() => platform.stop());
      const register = () =>
        fetch(`${platform.url}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            email: 'early@example.com',
            name: 'Early',
            planId: 'pro-monthly',
            paymentMethod: 'pm_card_visa',
          }),
        });

      const early = await register();
      expect(early.status).toBe(503);
      expect(early.headers.get('content-type')).toContain('application/problem+json');
      expect(early.headers.get('retry-after')).toBe('1');
      expect(await early.json()).toMatchObject({ type: expect.stringMatching(/\/starting$/), status: 503 });
      expect((await fetch(`${platform.url}/plans`)).status).toBe(503);
      expect((await fetch(`${platform.url}/health`)).status).toBe(200);
      expect((await fetch(`${platform.url}/ready`)).status).toBe(503);
      expect((await fetch(`${platform.url}/openapi.json`)).status).toBe(200);

      await holder.query('commit');
      await waitFor('/ready', async () => (await fetch(`${platform.url}/ready`)).status === 200, 60_000);
      const later = await register();
      expect(later.status, await later.clone().text()).toBe(201);
      // The early request wrote nothing: the email was free for the later one, and one registration exists.
      const { rows } = await holder.query(`select count(*)::int as n from ${schema}.sagas`);
      expect(rows[0]!.n).toBe(1);
    },
  );
});
