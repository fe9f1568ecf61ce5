import { afterAll, describe, expect, it } from 'vitest';
import type { Sql } from '../../src/kernel/db/database.ts';
import { silentLogger } from '../../src/kernel/logger.ts';
import { ProjectionBehindError } from '../../src/kernel/projections/errors.ts';
import { defineProjection, type ProjectionDefinition } from '../../src/kernel/projections/projection.ts';
import { ProjectionRunner } from '../../src/kernel/projections/projection-runner.ts';
import { openPostgres } from '../../src/kernel/db/postgres.ts';
import { EventStore } from '../../src/kernel/store/event-store.ts';
import type { ProjectedEvent } from '../../src/kernel/store/envelope.ts';
import { openStore, type Backend, type StoreFixture } from '../support/open-store.ts';
import { postgresAvailable, TEST_DATABASE_URL } from '../support/postgres.ts';
import { thing } from '../support/test-catalog.ts';
import { waitFor } from '../support/wait-for.ts';

/** Sums `n` per customer; `failOn` makes a batch holding that n throw (after writing its rows). */
const sums = (options: { version?: number; failOn?: { n: number | undefined } } = {}): ProjectionDefinition =>
  defineProjection({
    name: 'sums',
    schema: 'sums_view',
    version: options.version ?? 1,
    types: ['ThingHappened'],
    tables: (schema) =>
      `create table ${schema}.sums (customer_id text primary key, total bigint not null, events int not null)`,
    async apply(events: readonly ProjectedEvent[], { tx, schema }: { tx: Sql; schema: string }) {
      for (const event of events) {
        const { customerId, n } = event.data as { customerId: string; n: number };
        await tx.query(
          `insert into ${schema}.sums values ($1, $2, 1) on conflict (customer_id) do update set total = sums.total + excluded.total, events = sums.events + 1`,
          [customerId, n],
        );
        if (n === options.failOn?.n) throw new Error(`planted failure at n=${n}`);
      }
    },
  });

function projectionRunnerSuite(backend: Backend) {
  describe(`projection runner on ${backend}`, async () => {
    const skip = backend === 'PostgreSQL' && !(await postgresAvailable());
    const fixtures: StoreFixture[] = [];
    afterAll(async () => {
      for (const fixture of fixtures) await fixture.close();
    });

    const open = async () => {
      const fixture = await openStore(backend);
      fixtures.push(fixture);
      const schema = 'schema' in fixture.db ? `${String(fixture.db.schema)}_sums_view` : 'sums_view';
      const runnerOf = (definition: ProjectionDefinition, batchSize = 7) =>
        new ProjectionRunner(definition, {
          store: fixture.store,
          db: fixture.db,
          schema,
          clock: fixture.clock,
          log: silentLogger,
          batchSize,
          pollMs: 20,
        });
      const totals = async () =>
        Object.fromEntries(
          (
            await fixture.db.query<{ customer_id: string; total: number; events: number }>(
              `select customer_id, total, events from ${schema}.sums order by customer_id`,
            )
          ).rows.map((row) => [row.customer_id, { total: Number(row.total), events: row.events }]),
        );
      // The log is readable up to the oldest transaction open in the database (another suite's, on a
      // shared cluster): a test reads its events once they are readable, not before.
      const readable = async (position: number) => {
        await waitFor(
          `event ${position} readable`,
          async () => (await fixture.store.readableHead()).position >= position,
        );
        return position;
      };
      const appendThings = async (customers: number, perCustomer: number) => {
        let last = 0;
        for (let c = 0; c < customers; c++) {
          for (let i = 1; i <= perCustomer; i++)
            last = (await fixture.store.append(`c-${c}`, [thing(`c${c}`, i)])).position;
        }
        return readable(last);
      };
      return { fixture, schema, runnerOf, totals, appendThings, readable };
    };

    it.skipIf(skip)(
      'applies every event once; a failing batch writes nothing, not even its checkpoint, and is applied once when retried',
      async () => {
        const { runnerOf, totals, appendThings, fixture, readable } = await open();
        await appendThings(3, 10);
        await readable(
          (await fixture.store.append('other', [{ type: 'OtherThingHappened', data: { customerId: 'x' } }])).position,
        );
        const failOn = { n: 9 as number | undefined };
        const runner = runnerOf(sums({ failOn }));
        await runner.setup();
        await expect(runner.catchUp()).rejects.toThrow('planted failure');
        const before = await runner.checkpoint();
        const partial = await totals();
        failOn.n = undefined;
        expect(await runner.catchUp()).toBeGreaterThan(0);
        expect(await totals()).toEqual({
          c0: { total: 55, events: 10 },
          c1: { total: 55, events: 10 },
          c2: { total: 55, events: 10 },
        });
        // what the failed batch wrote was rolled back with it: the checkpoint before it matches the rows
        expect(Object.values(partial).reduce((sum, row) => sum + row.events, 0)).toBeLessThan(30);
        expect(before.position).toBeGreaterThan(0);
        const status = await runner.status();
        expect(status.eventsApplied).toBe(31);
        expect(status.lag).toEqual({ events: 0, seconds: 0 });
      },
    );

    it.skipIf(skip)('two runners of one projection (two processes) never apply an event twice', async () => {
      const { runnerOf, totals, appendThings } = await open();
      await appendThings(4, 25);
      const [first, second] = [runnerOf(sums(), 5), runnerOf(sums(), 5)];
      await first.setup();
      await second.setup();
      await Promise.all([first.catchUp(), second.catchUp()]);
      const rows = await totals();
      expect(Object.keys(rows)).toHaveLength(4);
      for (const row of Object.values(rows)) expect(row).toEqual({ total: 325, events: 25 });
    });

    it.skipIf(skip)('reports lag in events and seconds until it catches up', async () => {
      const { runnerOf, appendThings, fixture } = await open();
      const runner = runnerOf(sums());
      await runner.setup();
      await appendThings(1, 12);
      fixture.clock.advanceBy(90_000);
      expect(await runner.lag()).toEqual({ events: 12, seconds: 90 });
      await runner.catchUp();
      expect(await runner.lag()).toEqual({ events: 0, seconds: 0 });
    });

    it.skipIf(skip)(
      'read-your-writes: waits for a position, answers ProjectionBehindError with the current one when it is not reached in time',
      async () => {
        const { runnerOf, appendThings } = await open();
        const runner = runnerOf(sums());
        await runner.setup();
        const position = await appendThings(1, 3);
        const behind = await runner.waitForPosition(position, 100).catch((error: unknown) => error);
        expect(behind).toBeInstanceOf(ProjectionBehindError);
        expect(behind).toMatchObject({ minPosition: position, currentPosition: 0 });
        runner.start();
        await runner.waitForPosition(position, 10_000);
        expect((await runner.checkpoint()).position).toBeGreaterThanOrEqual(position);
        await runner.waitForPosition(undefined, 0);
        await runner.stop();
      },
    );

    it.skipIf(skip)(
      'rebuilds into a shadow and swaps: the view answers throughout, progress is visible, the result equals the live one',
      async () => {
        const { runnerOf, totals, appendThings, schema, fixture } = await open();
        await appendThings(5, 60);
        const runner = runnerOf(sums(), 50);
        await runner.setup();
        runner.start();
        await waitFor('the live view', async () => (await runner.lag()).events === 0);
        const live = await totals();

        let reads = 0;
        let readFailures = 0;
        let stopReading = false;
        const reader = (async () => {
          while (!stopReading) {
            const { rows } = await fixture.db
              .query<{ n: number }>(`select count(*)::int as n from ${schema}.sums`)
              .catch(() => ((readFailures += 1), { rows: [] }));
            expect(rows[0]?.n).toBe(5);
            reads += 1;
          }
        })();
        const progress: number[] = [];
        const rebuilt = runner.rebuild();
        const appendedMeanwhile = appendThings(1, 5);
        while (runner.rebuildInProgress) {
          const status = await runner.status();
          if (status.rebuild) progress.push(status.rebuild.processed);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        await rebuilt;
        await appendedMeanwhile;
        await waitFor('the appends during the rebuild', async () => (await runner.lag()).events === 0);
        stopReading = true;
        await reader;
        await runner.stop();

        expect(readFailures).toBe(0);
        expect(reads).toBeGreaterThan(0);
        expect(progress.length).toBeGreaterThan(0);
        expect((await runner.status()).lastRebuild).toMatchObject({ events: expect.any(Number) });
        expect(await totals()).toEqual({ ...live, c0: { total: 1830 + 15, events: 65 } });
        const { rows } = await fixture.db.query<{ n: number }>(
          `select count(*)::int as n from information_schema.schemata where schema_name like $1`,
          [`${schema}\\_%`],
        );
        expect(rows[0]!.n).toBe(0);
        // The shadow was filled unlogged: what was swapped in is durable again.
        const { rows: unlogged } = await fixture.db.query<{ name: string }>(
          `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = $1 and c.relpersistence <> 'p'`,
          [schema],
        );
        expect(unlogged).toEqual([]);
      },
    );

    it.skipIf(skip)(
      'a rebuild whose shadow lost its checkpoint (unlogged tables emptied by a restart) fails instead of swapping it in',
      async () => {
        const { runnerOf, totals, appendThings } = await open();
        const last = await appendThings(2, 4);
        const live = runnerOf(sums());
        await live.setup();
        // The log is readable up to the oldest transaction open in the database: a rebuild that read
        // nothing would have nothing to lose.
        await waitFor('the live view at the last event', async () => {
          await live.catchUp();
          return (await live.checkpoint()).position >= last;
        });
        const before = await totals();
        const base = sums();
        const emptied = runnerOf({
          ...base,
          async apply(events, context) {
            await base.apply(events, context);
            if (context.schema.endsWith('_rebuild'))
              await context.tx.query(`delete from ${context.schema}.projection_state`);
          },
        });
        await emptied.setup();
        await expect(emptied.rebuild()).rejects.toThrow(/checkpoint moved/);
        expect(await totals()).toEqual(before);
      },
    );

    it.skipIf(skip)('a process starting with a new version of the projection rebuilds its view', async () => {
      const { runnerOf, totals, appendThings, fixture } = await open();
      await appendThings(2, 4);
      const old = runnerOf(sums({ version: 1 }));
      await old.setup();
      await old.catchUp();
      await fixture.db.query(`update ${old.schema}.sums set total = -1`); // what version 1 got wrong
      const next = runnerOf(sums({ version: 2 }));
      await next.setup();
      next.start();
      await waitFor(
        'the rebuild to version 2',
        async () => (await next.status()).version === 2 && (await next.lag()).events === 0,
      );
      await next.stop();
      expect(await totals()).toEqual({ c0: { total: 10, events: 4 }, c1: { total: 10, events: 4 } });
    });

    it.skipIf(skip)(
      'a failed rebuild for a new version retries with backoff, shows its error, and ends in the new version',
      async () => {
        const { runnerOf, totals, appendThings } = await open();
        await appendThings(2, 4);
        const old = runnerOf(sums({ version: 1 }));
        await old.setup();
        await old.catchUp();
        const failOn = { n: 3 as number | undefined };
        const next = runnerOf(sums({ version: 2, failOn }));
        await next.setup();
        next.start();
        const failing = await waitFor('the failed rebuild to show', async () => {
          const status = await next.status();
          return status.state === 'failing' && status.lastError?.includes('planted failure') ? status : undefined;
        });
        expect(failing.version).toBe(1); // the old view still serves
        failOn.n = undefined; // the cause is gone: the next attempt succeeds
        await waitFor(
          'the rebuild to version 2',
          async () => (await next.status()).version === 2 && (await next.lag()).events === 0,
          30_000,
        );
        await waitFor('the runner to follow again', async () => (await next.status()).state === 'running');
        expect((await next.status()).lastError).toBeNull();
        await next.stop();
        expect(await totals()).toEqual({ c0: { total: 10, events: 4 }, c1: { total: 10, events: 4 } });
      },
    );

    it.skipIf(skip)(
      'two processes starting a new version: one rebuilds, the other waits, and every event is applied once',
      async () => {
        const { runnerOf, totals, appendThings, fixture, schema } = await open();
        await appendThings(3, 20);
        const old = runnerOf(sums({ version: 1 }));
        await old.setup();
        await old.catchUp();
        old.start(); // a process of the old release keeps following while the new ones start
        // The second process: a connection pool (PostgreSQL) of its own on the same schema.
        const otherDb =
          backend === 'PostgreSQL'
            ? await openPostgres({
                url: TEST_DATABASE_URL,
                schema: (fixture.db as unknown as { schema: string }).schema,
                poolSize: 4,
              })
            : fixture.db;
        const otherStore =
          backend === 'PostgreSQL' ? new EventStore(otherDb, fixture.store.catalog, fixture.clock) : fixture.store;
        const other = new ProjectionRunner(sums({ version: 2 }), {
          store: otherStore,
          db: otherDb,
          schema,
          clock: fixture.clock,
          log: silentLogger,
          batchSize: 5,
          pollMs: 20,
        });
        const next = runnerOf(sums({ version: 2 }), 5);
        await Promise.all([next.setup(), other.setup()]);
        next.start();
        other.start();
        const writing = appendThings(3, 10); // events keep coming during the rebuilds
        await writing;
        for (const runner of [next, other]) {
          await waitFor(
            'both on version 2, caught up',
            async () => (await runner.status()).version === 2 && (await runner.lag()).events === 0,
            30_000,
          );
        }
        await old.stop();
        await Promise.all([next.stop(), other.stop()]);
        if (otherDb !== fixture.db) await otherDb.close();
        // 20 events (1..20) then 10 more (1..10) per customer: each applied exactly once, by version 2.
        expect(await totals()).toEqual(
          Object.fromEntries(['c0', 'c1', 'c2'].map((c) => [c, { total: 210 + 55, events: 30 }])),
        );
      },
    );
  });
}

projectionRunnerSuite('PGlite');
projectionRunnerSuite('PostgreSQL');
