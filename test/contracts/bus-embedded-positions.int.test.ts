import { afterEach, describe, expect, it } from 'vitest';
import type { Subscription } from '../../src/kernel/bus/bus.ts';
import { EmbeddedBus } from '../../src/kernel/bus/embedded-bus.ts';
import type { ConsumerDefinition } from '../../src/kernel/consumers/consumer.ts';
import { ConsumerRunner } from '../../src/kernel/consumers/consumer-runner.ts';
import { DeadLetterStore } from '../../src/kernel/consumers/dead-letter-store.ts';
import type { Sql } from '../../src/kernel/db/database.ts';
import { silentLogger } from '../../src/kernel/logger.ts';
import { openStore, type Backend, type StoreFixture } from '../support/open-store.ts';
import { postgresAvailable } from '../support/postgres.ts';
import { testCatalog, thing } from '../support/test-catalog.ts';
import { waitFor } from '../support/wait-for.ts';
import { leavingOneToItsRetry, throwingOnce } from '../support/failing-once.ts';

/**
 * The embedded bus moves a group's position in the transaction of its batch's effects, without
 * inbox rows. These cases check that no path applies an event twice: a restart, two members of one
 * group, and batches that went (partly) through the inbox before a crash.
 */
const backends: Backend[] = ['PGlite', 'PostgreSQL'];

for (const backend of backends) {
  describe(`the embedded bus's group positions on ${backend}`, async () => {
    const skip = backend === 'PostgreSQL' && !(await postgresAvailable());
    let fixture: StoreFixture;
    let bus: EmbeddedBus;
    const running: Subscription[] = [];

    afterEach(async () => {
      await Promise.all(running.splice(0).map((subscription) => subscription.stop()));
      await fixture.close();
    });

    const open = async () => {
      fixture = await openStore(backend);
      await fixture.db.exec('create table effects (event_id uuid, n int)');
      bus = new EmbeddedBus({ store: fixture.store, catalog: testCatalog, clock: fixture.clock, log: silentLogger });
    };

    const subscribe = async (consumer: ConsumerDefinition) => {
      const runner = new ConsumerRunner(consumer, {
        db: fixture.db,
        catalog: testCatalog,
        clock: fixture.clock,
        log: silentLogger,
        deadLetters: new DeadLetterStore(fixture.db, fixture.clock),
        retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
      });
      const subscription = await bus.subscribe(runner);
      running.push(subscription);
      return subscription;
    };

    const effect = async (event: { id: string; data: unknown }, tx: Sql) => {
      await tx.query('insert into effects values ($1, $2)', [event.id, (event.data as { n: number }).n]);
    };
    const recorder: ConsumerDefinition = {
      name: 'recorder',
      topics: ['test.things'],
      handle: (event, { tx }) => effect(event, tx),
    };

    const append = async (from: number, count: number) =>
      fixture.store.append(
        `thing-${from}`,
        Array.from({ length: count }, (_, i) => thing('c', from + i)),
      );
    const effects = async () =>
      (
        await fixture.db.query<{ n: number; times: number }>(
          'select n, count(*)::int as times from effects group by n order by n',
        )
      ).rows;
    const caughtUp = async (subscription: Subscription, count: number) => {
      await waitFor(`${count} effects`, async () => (await effects()).length >= count);
      await waitFor('no lag', async () => (await subscription.lag()) === 0);
    };
    const expectOnce = async (count: number) =>
      expect(await effects()).toEqual(Array.from({ length: count }, (_, n) => ({ n, times: 1 })));
    /**
     * Five events through the member subscribed, then what a crash leaves when it comes before the
     * group saved the position it read to, then a new member and five events more.
     */
    const crashAfterFiveThenFiveMore = async () => {
      await append(0, 5);
      await caughtUp(running[0]!, 5);
      await running.pop()!.stop();
      await fixture.db.query(`update checkpoints set tx_id = '0', position = 0 where name = 'consumer:recorder'`);
      const again = await subscribe(recorder);
      await append(5, 5);
      await caughtUp(again, 10);
    };

    it.skipIf(skip)('commits a batch with its position and no inbox rows; a restart redelivers nothing', async () => {
      await open();
      await append(0, 50);
      const first = await subscribe(recorder);
      await caughtUp(first, 50);
      const inbox = await fixture.db.query<{ n: number }>('select count(*)::int as n from inbox');
      expect(inbox.rows[0]!.n).toBe(0);
      await running.pop()!.stop();
      await append(50, 10);
      const second = await subscribe(recorder);
      await caughtUp(second, 60);
      await expectOnce(60);
    });

    it.skipIf(skip)('with two members of one group (two processes), applies each event once', async () => {
      await open();
      const [a, b] = [await subscribe(recorder), await subscribe(recorder)];
      for (let from = 0; from < 300; from += 10) await append(from, 10);
      await caughtUp(a, 300);
      await caughtUp(b, 300);
      await expectOnce(300);
    });

    it.skipIf(skip)(
      'after a batch handler left one event to its retry, a crash does not apply the others again',
      async () => {
        await open();
        const flaky = leavingOneToItsRetry(recorder, 2, effect);
        await subscribe(flaky.definition);
        await crashAfterFiveThenFiveMore(); // the failing batch's transaction left the position before it
        expect(flaky.calls.failures).toBe(1);
        await expectOnce(10);
      },
    );

    it.skipIf(skip)(
      'after a failed batch went one event at a time through the inbox, a crash does not apply them again',
      async () => {
        await open();
        const flaky = throwingOnce(recorder, 3, effect);
        await subscribe(flaky.definition);
        await crashAfterFiveThenFiveMore(); // one event at a time through the inbox: the position was saved later
        expect(flaky.calls.attempts).toBe(2); // failed in the batch, then applied alone; not again after the crash
        await expectOnce(10);
      },
    );
  });
}
