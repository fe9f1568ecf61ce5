import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import type { Bus, Subscription } from '../../src/kernel/bus/bus.ts';
import type { BusMessage } from '../../src/kernel/bus/message.ts';
import type { Database } from '../../src/kernel/db/database.ts';
import type { ConsumerDefinition } from '../../src/kernel/consumers/consumer.ts';
import { ConsumerRunner } from '../../src/kernel/consumers/consumer-runner.ts';
import { replayDeadLetters } from '../../src/kernel/consumers/replay-dead-letters.ts';
import { DeadLetterStore } from '../../src/kernel/consumers/dead-letter-store.ts';
import type { RetryPolicy } from '../../src/kernel/consumers/retry-policy.ts';
import { silentLogger } from '../../src/kernel/logger.ts';
import type { EventStore } from '../../src/kernel/store/event-store.ts';
import type { TestClock } from '../../src/kernel/clock.ts';
import { testCatalog, thing } from '../support/test-catalog.ts';
import { waitFor } from '../support/wait-for.ts';

export interface BusFixture {
  db: Database;
  store: EventStore;
  clock: TestClock;
  bus: Bus;
  /** Puts a message on `topic` that is not a valid event (whatever that takes on this bus). */
  injectPoison(topic: string, key: string): Promise<void>;
  close(): Promise<void>;
}

const fastRetry: RetryPolicy = { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 };

/** The same cases for every bus: at least once delivery, exactly-once effect, retries, dead letters. */
export function busContract(name: string, open: () => Promise<BusFixture | null>) {
  describe(`bus on ${name}`, async () => {
    const fixture = await open();
    const skip = fixture === null;
    let deadLetters: DeadLetterStore;
    const running: Subscription[] = [];

    beforeAll(async () => {
      if (skip) return;
      deadLetters = new DeadLetterStore(fixture.db, fixture.clock);
      await fixture.db.exec(
        'create table if not exists effects (consumer text, event_id uuid, customer_id text, n int)',
      );
    });
    afterAll(async () => {
      await Promise.all(running.map((subscription) => subscription.stop()));
      await fixture?.close();
    });

    const runnerFor = (consumer: ConsumerDefinition, retry: RetryPolicy = fastRetry) =>
      new ConsumerRunner(consumer, {
        db: fixture!.db,
        catalog: testCatalog,
        clock: fixture!.clock,
        log: silentLogger,
        deadLetters,
        retry,
        publishDeadLetter: (c, m, e) => fixture!.bus.publishDeadLetter(c, m, e),
      });

    const subscribe = async (
      consumer: ConsumerDefinition,
      retry?: RetryPolicy,
      onDeliver?: (message: BusMessage) => void,
    ) => {
      const runner = runnerFor(consumer, retry);
      if (onDeliver) {
        const process = runner.process.bind(runner);
        runner.process = (message) => (onDeliver(message), process(message));
      }
      const subscription = await fixture!.bus.subscribe(runner);
      running.push(subscription);
      return subscription;
    };

    /** A consumer whose effect is a row in `effects`, written in the handler's transaction. */
    const recorder = (name: string): ConsumerDefinition => ({
      name,
      topics: ['test.things'],
      async handle(event, { tx }) {
        const data = event.data as { customerId: string; n: number };
        await tx.query('insert into effects values ($1, $2, $3, $4)', [name, event.id, data.customerId, data.n]);
      },
    });

    // Every test's consumer group starts at the beginning of the shared log: look only at its own customers.
    const effects = async (consumer: string, customers: string[]) =>
      (
        await fixture!.db.query<{ customer_id: string; n: number }>(
          'select customer_id, n from effects where consumer = $1 and customer_id = any($2) order by n',
          [consumer, customers],
        )
      ).rows;
    const mine = (customer: string, event: { data: unknown }) =>
      (event.data as { customerId: string }).customerId === customer;

    const unique = (prefix: string) => `${prefix}-${uuidv7().slice(-12)}`;

    it.skipIf(skip)(
      'delivers each event of its topics once, in order per key, and nothing of other topics',
      async () => {
        const name = unique('orders');
        await subscribe(recorder(name));
        const customers = ['alice', 'bob', 'carol'].map(unique);
        for (let n = 0; n < 30; n++) {
          const customer = customers[n % 3]!;
          await fixture!.store.append(`thing-${customer}`, [thing(customer, n)]);
        }
        await fixture!.store.append(unique('other'), [
          { type: 'OtherThingHappened', data: { customerId: customers[0]! } },
        ]);
        const rows = await waitFor('30 effects', async () =>
          (await effects(name, customers)).length >= 30 ? effects(name, customers) : null,
        );
        expect(rows).toHaveLength(30);
        for (const customer of customers) {
          const ns = rows.filter((row) => row.customer_id === customer).map((row) => row.n);
          expect(ns).toEqual([...ns].sort((a, b) => a - b));
          expect(ns).toHaveLength(10);
        }
      },
    );

    it.skipIf(skip)('resumes from its committed position after a restart, with each effect once', async () => {
      const name = unique('resume');
      const customer = unique('dave');
      for (let n = 0; n < 10; n++) await fixture!.store.append(`thing-${customer}`, [thing(customer, n)]);
      const first = await subscribe(recorder(name));
      await waitFor('first effects', async () => (await effects(name, [customer])).length >= 10);
      await first.stop();
      for (let n = 10; n < 20; n++) await fixture!.store.append(`thing-${customer}`, [thing(customer, n)]);
      await waitFor('the lag of the stopped group', async () => (await first.lag()) >= 10);
      await subscribe(recorder(name));
      await waitFor('all effects', async () => (await effects(name, [customer])).length >= 20);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await effects(name, [customer])).map((row) => row.n)).toEqual(Array.from({ length: 20 }, (_, n) => n));
    });

    it.skipIf(skip)('retries a failing handler with backoff and commits the effect once it succeeds', async () => {
      const name = unique('flaky');
      const customer = unique('erin');
      let failures = 0;
      await subscribe({
        ...recorder(name),
        async handle(event, context) {
          if (mine(customer, event) && failures < 2) {
            failures++;
            throw new Error('transient');
          }
          await recorder(name).handle(event, context);
        },
      });
      await fixture!.store.append(`thing-${customer}`, [thing(customer, 1)]);
      await waitFor('the effect after two failures', async () => (await effects(name, [customer])).length === 1);
      expect(failures).toBe(2);
      expect(await deadLetters.list({ consumer: name })).toEqual([]);
    });

    it.skipIf(skip)('dead-letters an event that keeps failing, goes on, and replays it once fixed', async () => {
      const name = unique('broken');
      const customer = unique('frank');
      let broken = true;
      let attempts = 0;
      const consumer: ConsumerDefinition = {
        ...recorder(name),
        async handle(event, context) {
          if (broken && mine(customer, event) && (event.data as { n: number }).n === 1) {
            attempts++;
            throw new Error('cannot handle n=1');
          }
          await recorder(name).handle(event, context);
        },
      };
      await subscribe(consumer);
      for (const n of [1, 2, 3]) await fixture!.store.append(`thing-${customer}`, [thing(customer, n)]);
      await waitFor('the events after the bad one', async () => (await effects(name, [customer])).length === 2);
      expect(attempts).toBe(fastRetry.maxAttempts);
      const [letter, ...more] = await deadLetters.list({ consumer: name });
      expect(more).toEqual([]);
      expect(letter).toMatchObject({
        consumer: name,
        eventType: 'ThingHappened',
        error: 'cannot handle n=1',
        poison: false,
        attempts: 3,
      });
      expect(letter!.message.headers.ce_specversion).toBe('1.0');

      broken = false;
      expect(await replayDeadLetters(runnerFor(consumer), deadLetters)).toEqual({
        consumer: name,
        replayed: 1,
        failed: [],
      });
      expect((await effects(name, [customer])).map((row) => row.n)).toEqual([1, 2, 3]);
      expect(await deadLetters.list({ consumer: name })).toEqual([]);
      await runnerFor(consumer).replay(letter!.message); // a second replay has no second effect
      expect(await effects(name, [customer])).toHaveLength(3);
    });

    it.skipIf(skip)('in a batch where one event fails, commits the others once and dead-letters that one', async () => {
      const name = unique('batch');
      const customer = unique('ivy');
      let attempts = 0;
      // Appended together before the consumer joins: delivered as one batch.
      await fixture!.store.append(
        `thing-${customer}`,
        [1, 2, 3, 4, 5].map((n) => thing(customer, n)),
      );
      await subscribe({
        ...recorder(name),
        async handle(event, context) {
          await recorder(name).handle(event, context);
          if (mine(customer, event) && (event.data as { n: number }).n === 3) {
            attempts++;
            throw new Error('cannot handle n=3');
          }
        },
      });
      await waitFor('the dead letter', async () => (await deadLetters.list({ consumer: name })).length === 1);
      await waitFor('the other effects', async () => (await effects(name, [customer])).length === 4);
      expect((await effects(name, [customer])).map((row) => row.n)).toEqual([1, 2, 4, 5]);
      expect(attempts).toBe(fastRetry.maxAttempts);
      expect(await deadLetters.list({ consumer: name })).toMatchObject([
        { error: 'cannot handle n=3', attempts: 3, poison: false },
      ]);
    });

    it.skipIf(skip)(
      'with a batch handler that reports one event failed, commits the others once and retries that one alone',
      async () => {
        const name = unique('set');
        const customer = unique('jay');
        const batches: number[] = [];
        let failures = 0;
        // Appended together before the consumer joins: delivered as one batch.
        await fixture!.store.append(
          `thing-${customer}`,
          [1, 2, 3, 4, 5].map((n) => thing(customer, n)),
        );
        await subscribe({
          ...recorder(name),
          async handleBatch(events, { tx }) {
            batches.push(events.length);
            const failed = new Map<string, unknown>();
            for (const event of events) {
              const data = event.data as { customerId: string; n: number };
              // The effect of n=3 fails on its own (an email refused): nothing is written for it.
              if (mine(customer, event) && data.n === 3 && failures++ === 0)
                failed.set(event.id, new Error('refused once'));
              else
                await tx.query('insert into effects values ($1, $2, $3, $4)', [
                  name,
                  event.id,
                  data.customerId,
                  data.n,
                ]);
            }
            return failed;
          },
        });
        await waitFor('every effect', async () => (await effects(name, [customer])).length === 5);
        expect((await effects(name, [customer])).map((row) => row.n)).toEqual([1, 2, 3, 4, 5]);
        expect(failures).toBe(1);
        expect(Math.max(...batches)).toBeGreaterThan(1);
        expect(await deadLetters.list({ consumer: name })).toEqual([]);
      },
    );

    it.skipIf(skip)('sends a poison message straight to the dead letters and goes on', async () => {
      const name = unique('poison');
      const customer = unique('gina');
      await subscribe(recorder(name));
      await fixture!.injectPoison('test.things', customer);
      await fixture!.store.append(`thing-${customer}`, [thing(customer, 1)]);
      await waitFor('the event after the poison', async () => (await effects(name, [customer])).length === 1);
      const letters = await waitFor('the poison dead letter', async () => {
        const list = await deadLetters.list({ consumer: name });
        return list.length > 0 ? list : null;
      });
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({ poison: true, attempts: 0 });
    });

    it.skipIf(skip)('finishes the event in hand when stopped, and commits it', async () => {
      const name = unique('graceful');
      const customer = unique('hank');
      let entered!: () => void;
      const inHandler = new Promise<void>((resolve) => (entered = resolve));
      const subscription = await subscribe({
        ...recorder(name),
        async handle(event, context) {
          if (mine(customer, event)) {
            entered();
            await new Promise((resolve) => setTimeout(resolve, 300));
          }
          await recorder(name).handle(event, context);
        },
      });
      await fixture!.store.append(`thing-${customer}`, [thing(customer, 1)]);
      await inHandler;
      await subscription.stop();
      expect(await effects(name, [customer])).toHaveLength(1);
      // Committed: the group's next member is not handed that event again.
      let redelivered = 0;
      const next = await subscribe(recorder(name), undefined, (message) => {
        if (message.key === customer) redelivered++;
      });
      await waitFor('the next member to catch up', async () => (await next.lag()) === 0);
      expect(redelivered).toBe(0);
    });
  });
}
