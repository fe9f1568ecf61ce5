import { afterEach, describe, expect, it } from 'vitest';
import { toCloudEvent } from '../../src/kernel/bus/cloudevent.ts';
import type { BusMessage } from '../../src/kernel/bus/message.ts';
import type { ConsumerDefinition } from '../../src/kernel/consumers/consumer.ts';
import { ConsumerRunner } from '../../src/kernel/consumers/consumer-runner.ts';
import { DeadLetterStore } from '../../src/kernel/consumers/dead-letter-store.ts';
import { PartitionMarks } from '../../src/kernel/consumers/partition-marks.ts';
import type { Sql } from '../../src/kernel/db/database.ts';
import { silentLogger } from '../../src/kernel/logger.ts';
import { LOG_START } from '../../src/kernel/store/envelope.ts';
import { openStore, type Backend, type StoreFixture } from '../support/open-store.ts';
import { postgresAvailable } from '../support/postgres.ts';
import { testCatalog, thing } from '../support/test-catalog.ts';
import { waitFor } from '../support/wait-for.ts';
import { leavingOneToItsRetry, throwingOnce } from '../support/failing-once.ts';

/**
 * Kafka batches move per-partition marks in their transaction instead of writing inbox rows. These
 * cases hand the runner what a Kafka member would fetch (the relay's messages, with their log
 * positions in the headers) and check that no path applies an event twice: a redelivered batch,
 * the relay's republished duplicates, partitions at different marks, and batches that went (partly)
 * through the inbox before they came again.
 */
const backends: Backend[] = ['PGlite', 'PostgreSQL'];

for (const backend of backends) {
  describe(`Kafka partition marks on ${backend}`, async () => {
    const skip = backend === 'PostgreSQL' && !(await postgresAvailable());
    let fixture: StoreFixture;

    afterEach(async () => fixture?.close());

    const effect = async (event: { id: string; data: unknown }, tx: Sql) => {
      await tx.query('insert into effects values ($1, $2)', [event.id, (event.data as { n: number }).n]);
    };
    const recorder: ConsumerDefinition = {
      name: 'recorder',
      topics: ['test.things'],
      handle: (event, { tx }) => effect(event, tx),
    };

    /** `count` events, published as the relay would: partition `n % partitions`, offsets in order. */
    const publish = async (count: number, partitions = 1): Promise<BusMessage[]> => {
      fixture = await openStore(backend);
      await fixture.db.exec('create table effects (event_id uuid, n int)');
      for (let n = 0; n < count; n++) await fixture.store.append(`thing-${n}`, [thing(`c${n}`, n)]);
      // The log is readable up to the oldest transaction still open in the database (other tests').
      const rows = await waitFor(`${count} readable events`, async () => {
        const read = await fixture.store.readAllRaw(LOG_START, { limit: count });
        return read.length === count ? read : null;
      });
      return rows.map((row, n) => ({
        ...toCloudEvent(row, 'test.things'),
        origin: { partition: n % partitions, offset: Math.floor(n / partitions) },
      }));
    };

    /** A member's runner and marks; a new one for each "process". */
    const member = (consumer: ConsumerDefinition = recorder) => {
      const runner = new ConsumerRunner(consumer, {
        db: fixture.db,
        catalog: testCatalog,
        clock: fixture.clock,
        log: silentLogger,
        deadLetters: new DeadLetterStore(fixture.db, fixture.clock),
        retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
      });
      const marks = new PartitionMarks(runner.name, fixture.db);
      // A fetched batch is a fresh copy of the messages, as Kafka hands them again.
      const deliver = (messages: readonly BusMessage[]) => {
        const fetched = messages.map((message) => ({ ...message }));
        return runner.processBatch(fetched, marks.batch(fetched));
      };
      return { runner, deliver };
    };

    const count = async (table: 'effects' | 'inbox') =>
      (await fixture.db.query<{ n: number }>(`select count(*)::int as n from ${table}`)).rows[0]!.n;
    const expectOnce = async (events: number) => {
      const { rows } = await fixture.db.query<{ n: number; times: number }>(
        'select n, count(*)::int as times from effects group by n order by n',
      );
      expect(rows).toEqual(Array.from({ length: events }, (_, n) => ({ n, times: 1 })));
    };

    it.skipIf(skip)(
      'commits a batch with its marks and no inbox rows; the batch fetched again is all duplicates',
      async () => {
        const messages = await publish(20, 3);
        const { deliver } = member();
        expect(await deliver(messages)).toEqual(Array(20).fill('processed'));
        expect(await count('inbox')).toBe(0);
        expect(await member().deliver(messages)).toEqual(Array(20).fill('duplicate'));
        await expectOnce(20);
      },
    );

    it.skipIf(skip)(
      "drops the relay's republished events and applies what follows them, partition by partition",
      async () => {
        const messages = await publish(30, 2);
        const { deliver } = member();
        // Partition 0 got further than partition 1 before the relay crashed and republished from event 10.
        await deliver(messages.slice(0, 20).filter((message) => message.origin!.partition === 0));
        await deliver(messages.slice(0, 10).filter((message) => message.origin!.partition === 1));
        const outcomes = await deliver(messages.slice(10));
        expect(outcomes).toEqual(messages.slice(10).map((_, i) => (i < 10 && i % 2 === 0 ? 'duplicate' : 'processed')));
        expect(await count('inbox')).toBe(0);
        await expectOnce(30);
      },
    );

    it.skipIf(skip)('a single message of a passed partition is a duplicate in its own transaction', async () => {
      const messages = await publish(5);
      const { runner, deliver } = member();
      await deliver(messages);
      const again = { ...messages[2]! };
      new PartitionMarks(runner.name, fixture.db).batch([again]); // what a member's fetch gives it
      expect(await runner.process(again)).toBe('duplicate');
      await expectOnce(5);
    });

    it.skipIf(skip)(
      'after a batch handler left one event to its retry, the batch fetched again applies nothing twice',
      async () => {
        const messages = await publish(10, 2);
        const flaky = leavingOneToItsRetry(recorder, 4, effect);
        expect(await member(flaky.definition).deliver(messages)).toEqual(Array(10).fill('processed'));
        expect(flaky.calls.failures).toBe(1); // its retry went through `handle`, alone
        // A crash before the offsets were committed: the next member fetches the same messages.
        expect(await member(recorder).deliver(messages)).toEqual(Array(10).fill('duplicate'));
        await expectOnce(10);
      },
    );

    it.skipIf(skip)(
      'after a failed batch went one event at a time through the inbox, the batch fetched again applies nothing twice',
      async () => {
        const messages = await publish(10, 2);
        const flaky = throwingOnce(recorder, 3, effect);
        expect(await member(flaky.definition).deliver(messages)).toEqual(Array(10).fill('processed'));
        expect(flaky.calls.attempts).toBe(2);
        expect(await count('inbox')).toBe(10);
        expect(await member(recorder).deliver(messages)).toEqual(Array(10).fill('duplicate'));
        await expectOnce(10);
      },
    );

    it.skipIf(skip)('messages without their log position go through the inbox', async () => {
      const messages = (await publish(5)).map(({ headers: { ce_position: _, ...headers }, ...message }) => ({
        ...message,
        headers,
      }));
      const { deliver } = member();
      expect(await deliver(messages)).toEqual(Array(5).fill('processed'));
      expect(await count('inbox')).toBe(5);
      expect(await member().deliver(messages)).toEqual(Array(5).fill('duplicate'));
      await expectOnce(5);
    });
  });
}
