import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { v7 as uuidv7, validate as isUuid, version as uuidVersion } from 'uuid';
import { migrate } from '../../src/kernel/db/migrate.ts';
import { consumerMigrations } from '../../src/kernel/consumers/migrations.ts';
import { LOG_START, type RecordedEvent } from '../../src/kernel/store/envelope.ts';
import { ConcurrencyError, EventValidationError, GuardError } from '../../src/kernel/store/errors.ts';
import { lazyTransaction } from '../../src/kernel/db/lazy-transaction.ts';
import { eventStoreMigrations } from '../../src/kernel/store/migrations.ts';
import type { Backend, StoreFixture } from '../support/open-store.ts';
import { openStore } from '../support/open-store.ts';
import { thing } from '../support/test-catalog.ts';
import { waitFor } from '../support/wait-for.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { openPostgres } from '../../src/kernel/db/postgres.ts';
import { EventStore } from '../../src/kernel/store/event-store.ts';
import { TEST_DATABASE_URL } from '../support/postgres.ts';
import { testCatalog } from '../support/test-catalog.ts';

const stream = () => `thing-${uuidv7()}`;

async function readWholeLog(fixture: StoreFixture, batch: number): Promise<RecordedEvent[]> {
  const seen: RecordedEvent[] = [];
  let after = LOG_START;
  for (;;) {
    const page = await fixture.store.readAll(after, { limit: batch });
    if (page.length === 0) return seen;
    seen.push(...page);
    const last = page[page.length - 1]!;
    after = { txId: last.txId, position: last.position };
  }
}

/** The same cases for every backend of the event store. */
export function eventStoreContract(backend: Backend, available: () => Promise<boolean> | boolean = () => true) {
  describe(`event store on ${backend}`, async () => {
    const skip = !(await available());
    let fixture: StoreFixture;
    beforeAll(async () => {
      if (!skip) fixture = await openStore(backend);
    });
    afterAll(async () => fixture?.close());

    it.skipIf(skip)('appends to a new stream and reads it back in order, with UUID v7 ids and metadata', async () => {
      const id = stream();
      const result = await fixture.store.append(id, [thing('c1', 1), thing('c1', 2)], { expectedVersion: 'no_stream' });
      expect(result.version).toBe(2);
      expect(result.events.map((event) => event.version)).toEqual([1, 2]);
      const events = await fixture.store.readStream(id);
      expect(events.map((event) => (event.data as { n: number }).n)).toEqual([1, 2]);
      for (const event of events) {
        expect(isUuid(event.id) && uuidVersion(event.id)).toBe(7);
        expect(event).toMatchObject({ type: 'ThingHappened', streamId: id, partitionKey: 'c1', schemaVersion: 2 });
        expect(event.metadata).toEqual({ correlationId: event.id, causationId: null, actor: 'system' });
        expect(event.occurredAt.toISOString()).toBe('2026-01-01T00:00:00.000Z');
      }
      expect(events[1]!.position).toBeGreaterThan(events[0]!.position);
      expect(result.position).toBe(events[1]!.position);
    });

    it.skipIf(skip)('carries the given metadata', async () => {
      const id = stream();
      const metadata = { correlationId: uuidv7(), causationId: uuidv7(), actor: 'user:42' };
      await fixture.store.append(id, [{ ...thing('c1', 1), metadata }]);
      const [event] = await fixture.store.readStream(id);
      expect(event!.metadata).toEqual(metadata);
    });

    it.skipIf(skip)('refuses a wrong expected version with the expected and actual versions', async () => {
      const id = stream();
      await fixture.store.append(id, [thing('c1', 1), thing('c1', 2)]);
      const error = await fixture.store.append(id, [thing('c1', 3)], { expectedVersion: 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConcurrencyError);
      expect(error).toMatchObject({ streamId: id, expected: 1, actual: 2 });
      expect((error as Error).message).toBe(`stream ${id}: expected version 1, actual 2`);
      await expect(fixture.store.append(id, [thing('c1', 3)], { expectedVersion: 'no_stream' })).rejects.toMatchObject({
        actual: 2,
      });
      await expect(
        fixture.store.append(stream(), [thing('c1', 1)], { expectedVersion: 'stream_exists' }),
      ).rejects.toBeInstanceOf(ConcurrencyError);
      await expect(fixture.store.append(stream(), [thing('c1', 1)], { expectedVersion: 3 })).rejects.toMatchObject({
        actual: 0,
      });
      expect((await fixture.store.append(id, [thing('c1', 3)], { expectedVersion: 2 })).version).toBe(3);
      expect((await fixture.store.append(id, [thing('c1', 4)], { expectedVersion: 'stream_exists' })).version).toBe(4);
      expect((await fixture.store.append(id, [thing('c1', 5)], { expectedVersion: 'any' })).version).toBe(5);
      expect(await fixture.store.readStream(id)).toHaveLength(5);
    });

    it.skipIf(skip)('lets exactly one of several concurrent writers with the same expected version win', async () => {
      const id = stream();
      await fixture.store.append(id, [thing('c1', 0)]);
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, n) => fixture.store.append(id, [thing('c1', n + 1)], { expectedVersion: 1 })),
      );
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      for (const result of results) {
        if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(ConcurrencyError);
      }
      expect(await fixture.store.readStream(id)).toHaveLength(2);
    });

    it.skipIf(skip)('keeps every event of concurrent writers with any expected version', async () => {
      const id = stream();
      await Promise.all(Array.from({ length: 10 }, (_, n) => fixture.store.append(id, [thing('c1', n)])));
      const events = await fixture.store.readStream(id);
      expect(events.map((event) => event.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });

    it.skipIf(skip)('answers each of a burst of appends for itself; a refused one fails alone', async () => {
      const ids = Array.from({ length: 40 }, () => stream());
      await fixture.store.append(ids[7]!, [thing('c1', 0)]);
      const results = await Promise.allSettled(
        ids.map((id, n) =>
          fixture.store.append(id, [thing('c1', n), thing('c1', n)], { expectedVersion: 'no_stream' }),
        ),
      );
      expect(results.map((result) => result.status === 'fulfilled')).toEqual(ids.map((_, n) => n !== 7));
      expect((results[7] as PromiseRejectedResult).reason).toMatchObject({ streamId: ids[7], actual: 1 });
      for (const [n, result] of results.entries()) {
        if (result.status === 'rejected') continue;
        const events = await fixture.store.readStream(ids[n]!);
        expect(result.value).toMatchObject({ streamId: ids[n], version: 2, position: events[1]!.position });
        expect(result.value.events.map((event) => event.id)).toEqual(events.map((event) => event.id));
        expect(events.map((event) => (event.data as { n: number }).n)).toEqual([n, n]);
      }
    });

    it.skipIf(skip)('stores an event id once: a retried append returns the stored events', async () => {
      const id = stream();
      const eventId = uuidv7();
      const first = await fixture.store.append(id, [{ ...thing('c1', 1), id: eventId }], {
        expectedVersion: 'no_stream',
      });
      const retry = await fixture.store.append(id, [{ ...thing('c1', 1), id: eventId }], {
        expectedVersion: 'no_stream',
      });
      expect(retry.events).toEqual(first.events);
      const elsewhere = await fixture.store
        .append(stream(), [{ ...thing('c1', 1), id: eventId }])
        .catch((e: unknown) => e);
      expect(elsewhere).not.toBeInstanceOf(Error);
      expect(await fixture.store.readStream(id)).toHaveLength(1);
      const { rows } = await fixture.db.query<{ n: number }>(
        'select count(*)::int8 as n from events where event_id = $1',
        [eventId],
      );
      expect(rows[0]!.n).toBe(1);
    });

    it.skipIf(skip)(
      'stores event ids once across streams: a retried appendMany reports the stored events',
      async () => {
        const [a, b, c] = [stream(), stream(), stream()];
        const [a1, a2, b1, b2] = [uuidv7(), uuidv7(), uuidv7(), uuidv7()];
        // The same append to a, first and in the retry.
        const appendA = {
          streamId: a,
          events: [
            { ...thing('c1', 1), id: a1 },
            { ...thing('c1', 2), id: a2 },
          ],
          expectedVersion: 'no_stream' as const,
        };
        const first = await fixture.store.appendMany([
          appendA,
          { streamId: b, events: [{ ...thing('c2', 1), id: b1 }], expectedVersion: 'no_stream' },
        ]);
        // a: stored whole (its expectation is no longer checked); b: one stored, one new (checked); c: new.
        const retry = await fixture.store.appendMany([
          appendA,
          {
            streamId: b,
            events: [
              { ...thing('c2', 1), id: b1 },
              { ...thing('c2', 2), id: b2 },
            ],
            expectedVersion: 1,
          },
          { streamId: c, events: [thing('c3', 1)], expectedVersion: 'no_stream' },
        ]);
        expect(retry[0]).toEqual(first[0]);
        expect(retry[1]!.events.map((event) => [event.id, event.version])).toEqual([[b2, 2]]);
        expect(retry[2]).toMatchObject({ streamId: c, version: 1 });
        expect((await fixture.store.readStream(a)).map((event) => event.id)).toEqual([a1, a2]);
        expect((await fixture.store.readStream(b)).map((event) => event.id)).toEqual([b1, b2]);
        // A new event on a stream whose expectation no longer holds is refused, naming the stream.
        await expect(
          fixture.store.appendMany([
            { streamId: a, events: [{ ...thing('c1', 1), id: a1 }], expectedVersion: 'no_stream' },
            { streamId: b, events: [thing('c2', 3)], expectedVersion: 1 },
          ]),
        ).rejects.toMatchObject({ name: 'ConcurrencyError', streamId: b, actual: 2 });
      },
    );

    it.skipIf(skip)('refuses an invalid event naming the field, and writes nothing of the batch', async () => {
      const id = stream();
      const bad = { type: 'ThingHappened', data: { customerId: 'c1', n: 1.5, note: 'x' } };
      const error = await fixture.store.append(id, [thing('c1', 1), bad]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EventValidationError);
      expect(error).toMatchObject({ eventType: 'ThingHappened', field: 'n' });
      expect((error as Error).message).toContain('data.n');
      await expect(fixture.store.append(id, [{ type: 'NoSuchThing', data: {} }])).rejects.toThrow(
        'unknown event type: NoSuchThing',
      );
      await expect(
        fixture.store.append(id, [{ type: 'ThingHappened', data: { customerId: 'c1', n: 1, note: 'x', extra: true } }]),
      ).rejects.toThrow(EventValidationError);
      expect(await fixture.store.readStream(id)).toHaveLength(0);
    });

    it.skipIf(skip)('appends across streams atomically: one conflict and nothing is written', async () => {
      const [a, b] = [stream(), stream()];
      await fixture.store.append(b, [thing('c2', 1)]);
      await expect(
        fixture.store.appendMany([
          { streamId: a, events: [thing('c1', 1)], expectedVersion: 'no_stream' },
          { streamId: b, events: [thing('c2', 2)], expectedVersion: 'no_stream' },
        ]),
      ).rejects.toBeInstanceOf(ConcurrencyError);
      expect(await fixture.store.readStream(a)).toHaveLength(0);
      const results = await fixture.store.appendMany([
        { streamId: a, events: [thing('c1', 1)], expectedVersion: 'no_stream' },
        { streamId: b, events: [thing('c2', 2)], expectedVersion: 1 },
      ]);
      expect(results.map((result) => result.version)).toEqual([1, 2]);
    });

    it.skipIf(skip)('appends to several streams and runs writes along, in one statement that fails whole', async () => {
      const [a, b, name] = [stream(), stream(), `along-${uuidv7()}`];
      const checkpoint = (guard: string) => ({
        ctes: `w as (insert into checkpoints (name, tx_id, position, updated_at) values ($1, '0', 0, now())),
               guard as (${guard})`,
        params: [name],
      });
      const appends = [
        { streamId: a, events: [thing('c1', 1)], expectedVersion: 'no_stream' as const },
        { streamId: b, events: [thing('c2', 1), thing('c2', 2)] },
      ];
      const rows = () => fixture.db.query('select 1 from checkpoints where name = $1', [name]);
      // A guard that finds nothing: neither the appends nor the write happen.
      await expect(
        fixture.store.appendStreams(appends, { along: checkpoint('select 1 where false') }),
      ).rejects.toBeInstanceOf(GuardError);
      expect((await rows()).rows.length).toBe(0);
      expect(await fixture.store.readStream(a)).toHaveLength(0);
      // A stream that refuses names itself, and nothing happens either.
      await fixture.store.append(a, [thing('c1', 0)]);
      await expect(fixture.store.appendStreams(appends, { along: checkpoint('select 1') })).rejects.toMatchObject({
        name: 'ConcurrencyError',
        streamId: a,
        actual: 1,
      });
      expect((await rows()).rows.length).toBe(0);
      const results = await fixture.store.appendStreams([{ ...appends[0]!, expectedVersion: 1 }, appends[1]!], {
        along: checkpoint('select 1'),
      });
      expect(results.map((result) => [result.streamId, result.version])).toEqual([
        [a, 2],
        [b, 2],
      ]);
      expect(results[1]!.position).toBeGreaterThan(results[0]!.position);
      expect((await rows()).rows.length).toBe(1);
    });

    it.skipIf(skip)(
      'runs a lazy transaction of one last statement alone, and anything more in a transaction',
      async () => {
        const transactions = vi.spyOn(fixture.db, 'transaction');
        const [a, b] = [stream(), stream()];
        const committed: string[] = [];
        const alone = await lazyTransaction(fixture.db, async (tx) => {
          tx.onCommit(() => committed.push('alone'));
          return fixture.store.appendStreams([{ streamId: a, events: [thing('c1', 1)] }], { tx, last: true });
        });
        expect(transactions).not.toHaveBeenCalled();
        expect(alone[0]!.version).toBe(1);
        expect(committed).toEqual(['alone']);
        // A statement before the last begins a transaction; a failure after it rolls both back.
        await expect(
          lazyTransaction(fixture.db, async (tx) => {
            tx.onCommit(() => committed.push('rolled back'));
            await fixture.store.append(b, [thing('c2', 1)], { tx });
            await fixture.store.appendStreams([{ streamId: a, events: [thing('c1', 2)], expectedVersion: 0 }], {
              tx,
              last: true,
            });
          }),
        ).rejects.toBeInstanceOf(ConcurrencyError);
        expect(transactions).toHaveBeenCalledTimes(1);
        expect(await fixture.store.readStream(b)).toHaveLength(0);
        await lazyTransaction(fixture.db, async (tx) => {
          await fixture.store.append(b, [thing('c2', 1)], { tx });
          await fixture.store.appendStreams([{ streamId: a, events: [thing('c1', 2)] }], { tx, last: true });
          await expect(tx.query('select 1')).rejects.toThrow('a statement after the last one of a lazy transaction');
        });
        expect((await fixture.store.readStream(b)).length + (await fixture.store.readStream(a)).length).toBe(3);
        expect(committed).toEqual(['alone']);
        transactions.mockRestore();
      },
    );

    it.skipIf(skip)('reads a stream forward from a version, with a limit', async () => {
      const id = stream();
      await fixture.store.append(
        id,
        [1, 2, 3, 4, 5].map((n) => thing('c1', n)),
      );
      const events = await fixture.store.readStream(id, { fromVersion: 3, limit: 2 });
      expect(events.map((event) => event.version)).toEqual([3, 4]);
    });

    it.skipIf(skip)('reads the global log in batches, every event exactly once, in order', async () => {
      const ids = [stream(), stream(), stream()];
      for (let n = 0; n < 30; n++) await fixture.store.append(ids[n % 3]!, [thing(`c${n % 3}`, n)]);
      // Any transaction still open in the cluster (another test's) holds the reader back for a moment.
      const all = await waitFor('the whole log', async () => {
        const log = await readWholeLog(fixture, 7);
        return log.filter((event) => ids.includes(event.streamId)).length === 30 ? log : null;
      });
      const positions = all.map((event) => event.position);
      expect(new Set(positions).size).toBe(positions.length);
      const ours = all.filter((event) => ids.includes(event.streamId));
      expect(ours.map((event) => (event.data as { n: number }).n)).toEqual(Array.from({ length: 30 }, (_, n) => n));
      const filtered = await fixture.store.readAll(LOG_START, { types: ['OtherThingHappened'] });
      expect(filtered).toEqual([]);
    });

    it.skipIf(skip)('upcasts an event stored at an older schema version when reading it', async () => {
      const id = stream();
      await fixture.db.query(
        `insert into events (tx_id, event_id, stream_id, version, type, schema_version, data, metadata, partition_key, occurred_at)
         values (pg_current_xact_id(), $1, $2, 1, 'ThingHappened', 1, $3, $4, 'c9', now())`,
        [
          uuidv7(),
          id,
          JSON.stringify({ customerId: 'c9', n: 7 }),
          JSON.stringify({ correlationId: 'x', causationId: null, actor: 'system' }),
        ],
      );
      const [event] = await fixture.store.readStream(id);
      expect(event).toMatchObject({ schemaVersion: 2, data: { customerId: 'c9', n: 7, note: 'upcast from v1' } });
    });

    it.skipIf(skip)('reads several streams at once, trusted or not, older versions upcast either way', async () => {
      const [first, second, missing] = [stream(), stream(), stream()];
      await fixture.store.append(first, [thing('c1', 1), thing('c1', 2)]);
      await fixture.db.query(
        `insert into events (tx_id, event_id, stream_id, version, type, schema_version, data, metadata, partition_key, occurred_at)
         values (pg_current_xact_id(), $1, $2, 1, 'ThingHappened', 1, $3, $4, 'c9', now())`,
        [
          uuidv7(),
          second,
          JSON.stringify({ customerId: 'c9', n: 7 }),
          JSON.stringify({ correlationId: 'x', causationId: null, actor: 'system' }),
        ],
      );
      for (const trusted of [false, true]) {
        const streams = await fixture.store.readStreams([first, second, missing, first], { trusted });
        expect([...streams.keys()]).toEqual([first, second, missing]);
        expect(streams.get(first)!.map((event) => (event.data as { n: number }).n)).toEqual([1, 2]);
        expect(streams.get(second)![0]).toMatchObject({ schemaVersion: 2, data: { note: 'upcast from v1' } });
        expect(streams.get(missing)).toEqual([]);
      }
    });

    it.skipIf(skip)('wakes the readers of another connection at the commit of an append, never before it', async () => {
      // PostgreSQL: another process's view of the same schema; PGlite: one process, one database.
      const schema = (fixture.db as { schema?: string }).schema;
      const otherDb = schema ? await openPostgres({ url: TEST_DATABASE_URL, schema, poolSize: 2 }) : fixture.db;
      const other = new EventStore(otherDb, testCatalog, fixture.clock);
      const stop = other.followCommits();
      try {
        await waitFor('the other connection to listen', async () => {
          const woken = other.appended.wait(500);
          await fixture.store.append(stream(), [thing('c1', 1)]);
          return (await woken) || null;
        });
        while (await other.appended.wait(300)); // a wake-up still on its way (the connection's first)
        const [own, theirs] = [fixture.store.appended.wait(5_000), other.appended.wait(5_000)];
        const state = (signal: Promise<boolean>) =>
          Promise.race([signal.then(() => 'woken'), sleep(300).then(() => 'asleep')]);
        await fixture.db.transaction(async (tx) => {
          await fixture.store.append(stream(), [thing('c1', 2)], { tx });
          expect([await state(own), await state(theirs)]).toEqual(['asleep', 'asleep']);
        });
        expect([await own, await theirs]).toEqual([true, true]);
      } finally {
        await stop();
        if (otherDb !== fixture.db) await otherDb.close();
      }
    });

    it.skipIf(skip)('applies migrations once: running them again, even concurrently, changes nothing', async () => {
      const migrations = [...eventStoreMigrations, ...consumerMigrations];
      const again = await Promise.all([migrate(fixture.db, migrations), migrate(fixture.db, migrations)]);
      expect(again).toEqual([[], []]);
    });
  });
}
