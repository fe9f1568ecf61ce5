import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { migrate } from '../db/migrate.ts';
import { silentLogger } from '../logger.ts';
import { openStore, type Backend, type StoreFixture } from '../../../test/support/open-store.ts';
import { postgresAvailable } from '../../../test/support/postgres.ts';
import { currentTraceparent, traceIdOf } from '../tracing.ts';
import { sagaMigrations } from './migrations.ts';
import type { Database, Sql } from '../db/database.ts';
import type { SagaDefinition } from './saga.ts';
import { SagaNotParkedError, SagaOrchestrator, sagasParked } from './saga-orchestrator.ts';

interface TestState {
  customer: string;
  charge?: string;
  behaviour?:
    | 'decline'
    | 'flaky'
    | 'flaky-last'
    | 'flaky-outcome'
    | 'broken-last'
    | 'broken-all'
    | 'refunds-down'
    | 'nothing-to-finish';
}

const fast = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 };
/** Sagas whose refunds (`refunds-down`) work again: the gateway is back. */
const repaired = new Set<string>();
/** The trace each charge ran in, by its idempotency key. */
const traces = new Map<string, string | undefined>();
/** Sagas whose last step (`flaky-last`) or whose charge's outcome (`flaky-outcome`) failed once already. */
const failedOnce = new Set<string>();

function testSaga(calls: Map<string, number>, refunds: Map<string, number>): SagaDefinition<TestState> {
  const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1).get(key)!;
  return {
    type: 'test-saga',
    steps: [
      {
        name: 'create',
        local: true,
        async run({ state }, tx) {
          await tx!.query('insert into customers (id) values ($1)', [state.customer]);
          return { ok: {} };
        },
        async compensate({ state }, tx) {
          await tx!.query('delete from customers where id = $1', [state.customer]);
        },
      },
      {
        name: 'charge',
        local: false,
        retry: fast,
        async run({ state, idempotencyKey }) {
          const n = count(calls, idempotencyKey);
          traces.set(idempotencyKey, currentTraceparent());
          if (state.behaviour === 'decline')
            return {
              fail: { code: 'card_declined', message: 'declined', details: { declineCode: 'generic_decline' } },
            };
          if (state.behaviour === 'flaky' && n < 3) throw new Error('gateway unavailable');
          if (state.behaviour === 'flaky-outcome')
            return {
              ok: { charge: `ch_${idempotencyKey}` },
              // Records the charge in the checkpoint's statement; the first time, the database fails after that write was handed over.
              async outcome(_tx, _goesOn, writes) {
                writes!.write('insert into charges_recorded (key) values ($1)', [idempotencyKey]);
                if (!failedOnce.has(state.customer)) {
                  failedOnce.add(state.customer);
                  throw new Error('connection reset');
                }
              },
            };
          return { ok: { charge: `ch_${idempotencyKey}` } };
        },
        async compensate({ state, idempotencyKey }) {
          count(refunds, idempotencyKey);
          if (state.behaviour === 'broken-all') throw new Error('refund failed');
          if (state.behaviour === 'refunds-down' && !repaired.has(state.customer)) throw new Error('refunds refused');
        },
      },
      {
        name: 'finish',
        local: true,
        retry: fast,
        skip: (state) => state.behaviour === 'nothing-to-finish',
        async run({ state }, tx) {
          if (
            state.behaviour === 'broken-last' ||
            state.behaviour === 'broken-all' ||
            state.behaviour === 'refunds-down'
          )
            throw new Error('cannot finish');
          if (state.behaviour === 'flaky-last' && !failedOnce.has(state.customer)) {
            failedOnce.add(state.customer);
            throw new Error('not now');
          }
          await tx!.query('update customers set done = true where id = $1', [state.customer]);
          return { ok: {} };
        },
      },
    ],
  };
}

function sagaSuite(backend: Backend) {
  describe(`saga orchestrator on ${backend}`, async () => {
    const skip = backend === 'PostgreSQL' && !(await postgresAvailable());
    let fixture: StoreFixture;
    const calls = new Map<string, number>();
    const refunds = new Map<string, number>();
    const orchestrator = (owner: string) => {
      const instance = new SagaOrchestrator({
        db: fixture.db,
        clock: fixture.clock,
        log: silentLogger,
        owner,
        leaseMs: 300,
        compensationRetry: fast,
      });
      instance.register(testSaga(calls, refunds));
      return instance;
    };
    const customers = async (id: string) =>
      (await fixture.db.query<{ done: boolean }>('select done from customers where id = $1', [id])).rows;

    beforeAll(async () => {
      if (skip) return;
      fixture = await openStore(backend);
      await migrate(fixture.db, sagaMigrations);
      await fixture.db.exec('create table customers (id text primary key, done boolean not null default false)');
      await fixture.db.exec('create table charges_recorded (key text primary key)');
    });
    afterAll(async () => fixture?.close());

    it.skipIf(skip)('runs the steps in order and stores each outcome', async () => {
      const id = uuidv7();
      const record = await orchestrator('p1').start('test-saga', id, { customer: id });
      expect(record.status).toBe('completed');
      expect(record.state).toMatchObject({ customer: id, charge: `ch_${id}:charge` });
      expect(record.steps.map((step) => [step.step, step.phase, step.status])).toEqual([
        ['create', 'run', 'completed'],
        ['charge', 'run', 'completed'],
        ['finish', 'run', 'completed'],
      ]);
      expect(await customers(id)).toEqual([{ done: true }]);
    });

    it.skipIf(skip)("writes an external step's checkpoint in the next local step's statement", async () => {
      const id = uuidv7();
      const { db } = fixture;
      let statements = 0;
      const counted = <S extends Sql>(sql: S): S => ({
        ...sql,
        query: ((...args) => (statements++, sql.query(...args))) as Sql['query'],
      });
      const instance = new SagaOrchestrator({
        db: { ...counted(db), transaction: (fn) => db.transaction((tx) => fn(counted(tx))) } as Database,
        clock: fixture.clock,
        log: silentLogger,
        owner: 'p1',
      });
      instance.register(testSaga(calls, refunds));
      const record = await instance.start('test-saga', id, { customer: id });
      // The saga's creation; create's insert and its checkpoint (starting the charge); finish's update
      // and its checkpoint, with the charge's.
      expect(statements).toBe(5);
      const stored = await orchestrator('p2').get(id);
      expect(stored).toMatchObject({ status: 'completed', state: { charge: `ch_${id}:charge` }, position: null });
      expect(stored?.steps.map((step) => [step.step, step.status, step.attempts])).toEqual([
        ['create', 'completed', 1],
        ['charge', 'completed', 1],
        ['finish', 'completed', 1],
      ]);
      expect(record.state).toEqual(stored?.state);
    });

    it.skipIf(skip)(
      "writes the external step's checkpoint alone when the local step after it fails, and never runs it again",
      async () => {
        const id = uuidv7();
        const record = await orchestrator('p1').start('test-saga', id, { customer: id, behaviour: 'flaky-last' });
        expect(record.status).toBe('completed');
        expect(calls.get(`${id}:charge`)).toBe(1);
        const stored = await orchestrator('p2').get(id);
        expect(stored?.state).toMatchObject({ charge: `ch_${id}:charge` });
        expect(stored?.steps.map((step) => [step.step, step.status, step.attempts, step.error])).toEqual([
          ['create', 'completed', 1, null],
          ['charge', 'completed', 1, null],
          ['finish', 'completed', 2, 'not now'],
        ]);
        expect(await customers(id)).toEqual([{ done: true }]);
      },
    );

    it.skipIf(skip)(
      "records the external step's outcome once when making it failed in the local step's transaction",
      async () => {
        const id = uuidv7();
        const record = await orchestrator('p1').start('test-saga', id, { customer: id, behaviour: 'flaky-outcome' });
        expect(record.status).toBe('completed');
        expect(calls.get(`${id}:charge`)).toBe(1);
        const { rows } = await fixture.db.query('select key from charges_recorded where key = $1', [`${id}:charge`]);
        expect(rows).toHaveLength(1);
        const stored = await orchestrator('p2').get(id);
        expect(stored?.steps.map((step) => [step.step, step.status, step.attempts, step.error])).toEqual([
          ['create', 'completed', 1, null],
          ['charge', 'completed', 1, null],
          ['finish', 'completed', 2, 'connection reset'],
        ]);
      },
    );

    it.skipIf(skip)(
      'stores nothing of a new saga whose first statement breaks a unique key: its start fails with the error',
      async () => {
        const [first, second] = [uuidv7(), uuidv7()];
        const p1 = orchestrator('p1');
        await p1.start('test-saga', first, { customer: first }, { storedByFirstStep: true });
        // The same customer again: create's insert breaks customers' primary key.
        await expect(
          p1.start('test-saga', second, { customer: first }, { storedByFirstStep: true }),
        ).rejects.toMatchObject({ code: '23505' });
        expect(await p1.get(second)).toBeNull();
        expect(calls.get(`${second}:charge`)).toBeUndefined();
      },
    );

    it.skipIf(skip)('passes over a step with nothing to do: the last step to run completes the saga', async () => {
      const id = uuidv7();
      const record = await orchestrator('p1').start('test-saga', id, { customer: id, behaviour: 'nothing-to-finish' });
      expect(record.status).toBe('completed');
      const stored = await orchestrator('p2').get(id);
      expect(stored?.status).toBe('completed');
      expect(stored?.steps.map((step) => [step.step, step.status])).toEqual([
        ['create', 'completed'],
        ['charge', 'completed'],
      ]);
      const { rows } = await fixture.db.query('select lease_owner from sagas where id = $1', [id]);
      expect(rows).toEqual([{ lease_owner: null }]); // completed by the charge's checkpoint, its lease given up
      expect(await customers(id)).toEqual([{ done: false }]);
    });

    it.skipIf(skip)(
      'takes over a saga it was waiting for once the process holding it dies, even when its recovery joined the wait',
      async () => {
        const id = uuidv7();
        await fixture.db.query(
          `insert into sagas (id, type, status, state, lease_owner, lease_until, created_at, updated_at)
           values ($1, 'test-saga', 'running', $2, 'a-dead-process', clock_timestamp() + interval '300 milliseconds', now(), now())`,
          [id, JSON.stringify({ customer: id })],
        );
        const p1 = orchestrator('p1');
        const joined = p1.start('test-saga', id, { customer: id }); // a retried start: it waits for the holder
        await new Promise((resolve) => setTimeout(resolve, 400)); // the holder's lease lapses
        expect(await p1.recoverOnce()).toContain(id); // recovery takes the lease: its run is the waiting one
        expect((await joined).status).toBe('completed');
        expect(await customers(id)).toEqual([{ done: true }]);
      },
      10_000,
    );

    it.skipIf(skip)('compensates the completed steps when a step fails for a business reason', async () => {
      const id = uuidv7();
      const record = await orchestrator('p1').start('test-saga', id, { customer: id, behaviour: 'decline' });
      expect(record.status).toBe('compensated');
      expect(record.failure).toMatchObject({ code: 'card_declined', details: { declineCode: 'generic_decline' } });
      expect(await customers(id)).toEqual([]);
      expect(refunds.get(`${id}:charge`)).toBeUndefined(); // the declined charge has nothing to undo
      expect(record.steps.find((step) => step.step === 'create' && step.phase === 'compensate')?.status).toBe(
        'completed',
      );
    });

    it.skipIf(skip)('retries a step that throws, with the same idempotency key', async () => {
      const id = uuidv7();
      const record = await orchestrator('p1').start('test-saga', id, { customer: id, behaviour: 'flaky' });
      expect(record.status).toBe('completed');
      expect(calls.get(`${id}:charge`)).toBe(3);
      expect(record.steps.find((step) => step.step === 'charge')?.attempts).toBe(3);
    });

    it.skipIf(skip)('after a step keeps failing, undoes everything before it, the charge included', async () => {
      const id = uuidv7();
      const record = await orchestrator('p1').start('test-saga', id, { customer: id, behaviour: 'broken-last' });
      expect(record.status).toBe('compensated');
      expect(record.failure).toMatchObject({ code: 'step_failed' });
      expect(refunds.get(`${id}:charge`)).toBe(1);
      expect(await customers(id)).toEqual([]);
    });

    it.skipIf(skip)(
      'parks a saga whose compensation keeps failing as compensation_failed, with the error',
      async () => {
        const id = uuidv7();
        const record = await orchestrator('p1').start('test-saga', id, { customer: id, behaviour: 'broken-all' });
        expect(record.status).toBe('compensation_failed');
        expect(refunds.get(`${id}:charge`)).toBe(fast.maxAttempts);
        expect(record.steps.find((step) => step.step === 'charge' && step.phase === 'compensate')).toMatchObject({
          status: 'failed',
          error: 'charge: refund failed',
        });
        expect(await customers(id)).toHaveLength(1); // never dropped: an operator sees what is left
      },
    );

    it.skipIf(skip)(
      'takes over a saga left by a dead process and resumes it where it stopped, in its trace',
      async () => {
        const id = uuidv7();
        const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
        // A process that died after the first step: its lease has expired.
        await fixture.db.query(
          `insert into sagas (id, type, status, state, lease_owner, lease_until, created_at, updated_at, traceparent)
         values ($1, 'test-saga', 'running', $2, 'dead-process', clock_timestamp() - interval '1 second', now(), now(), $3)`,
          [id, JSON.stringify({ customer: id }), `00-${traceId}-00f067aa0ba902b7-01`],
        );
        await fixture.db.query('insert into customers (id) values ($1)', [id]);
        await fixture.db.query(
          `insert into saga_steps (saga_id, step, phase, status, attempts, started_at, finished_at) values ($1, 'create', 'run', 'completed', 1, now(), now())`,
          [id],
        );
        const survivor = orchestrator('p2');
        expect(await survivor.recoverOnce()).toEqual([id]);
        const record = await survivor.waitFor(id, 10_000);
        expect(record?.status).toBe('completed');
        expect(calls.get(`${id}:charge`)).toBe(1);
        expect(traceIdOf(traces.get(`${id}:charge`))).toBe(traceId);
        expect(await customers(id)).toEqual([{ done: true }]);
        await survivor.stop();
      },
    );

    it.skipIf(skip)('runs a saga once when two processes start it at the same time', async () => {
      const id = uuidv7();
      const [a, b] = await Promise.all([
        orchestrator('p1').start('test-saga', id, { customer: id }),
        orchestrator('p2').start('test-saga', id, { customer: id }),
      ]);
      expect(a.status).toBe('completed');
      expect(b.status).toBe('completed');
      expect(calls.get(`${id}:charge`)).toBe(1);
    });

    const parkedGauge = async () =>
      (await sagasParked.get()).values.find((value) => value.labels.type === 'test-saga')?.value ?? 0;

    it.skipIf(skip)(
      'tries a parked saga again on a growing backoff until its compensation succeeds, and the gauge follows the store',
      async () => {
        const id = uuidv7();
        const p1 = orchestrator('p1');
        const parked = await p1.start('test-saga', id, { customer: id, behaviour: 'refunds-down' });
        expect(parked).toMatchObject({
          status: 'compensation_failed',
          attempts: 1,
          lastError: 'charge: refunds refused',
        });
        const delay = parked.nextAttemptAt!.getTime() - parked.updatedAt.getTime();
        expect(delay).toBeGreaterThan(3_000); // seconds first...
        // A process that starts afterwards reads the gauge from the store.
        const restarted = orchestrator('p2');
        await restarted.sampleParked();
        const before = await parkedGauge();
        expect(before).toBeGreaterThanOrEqual(1);

        // Still refused when it falls due: parked again, for longer.
        await fixture.db.query(
          `update sagas set next_attempt_at = clock_timestamp() - interval '1 millisecond' where id = $1`,
          [id],
        );
        expect(await restarted.recoverOnce()).toContain(id);
        const again = (await restarted.waitFor(id, 10_000))!;
        expect(again).toMatchObject({ status: 'compensation_failed', attempts: 2 });
        expect(again.nextAttemptAt!.getTime() - again.updatedAt.getTime()).toBeGreaterThan(delay);

        // The gateway is back: the next attempt refunds, deletes the customer and the saga is compensated.
        repaired.add(id);
        await fixture.db.query(
          `update sagas set next_attempt_at = clock_timestamp() - interval '1 millisecond' where id = $1`,
          [id],
        );
        expect(await restarted.recoverOnce()).toContain(id);
        expect((await restarted.waitFor(id, 10_000))?.status).toBe('compensated');
        expect(await customers(id)).toEqual([]);
        await restarted.sampleParked();
        expect(await parkedGauge()).toBe(before - 1);
        await restarted.stop();
      },
    );

    it.skipIf(skip)('retries a parked saga now on request, and refuses to retry one that is not parked', async () => {
      const id = uuidv7();
      const p1 = orchestrator('p1');
      expect((await p1.start('test-saga', id, { customer: id, behaviour: 'refunds-down' })).status).toBe(
        'compensation_failed',
      );
      repaired.add(id);
      expect(await p1.retry(id)).toBe('compensating');
      expect((await p1.waitFor(id, 10_000))?.status).toBe('compensated');
      await expect(p1.retry(id)).rejects.toBeInstanceOf(SagaNotParkedError);
      await expect(p1.retry(uuidv7())).rejects.toBeInstanceOf(SagaNotParkedError);
      await p1.stop();
    });

    it.skipIf(skip)('lists sagas newest first with their steps, by status and type, page by page', async () => {
      const ids = [uuidv7(), uuidv7(), uuidv7()];
      const p1 = orchestrator('p1');
      for (const id of ids) await p1.start('test-saga', id, { customer: id });
      const first = await p1.list({ status: 'completed', type: 'test-saga', limit: 2 });
      expect(first.items.map((item) => item.id)).toEqual([ids[2], ids[1]]);
      expect(first.items[0]!.steps.map((step) => step.step)).toEqual(['create', 'charge', 'finish']);
      const second = await p1.list({ status: 'completed', type: 'test-saga', limit: 2, cursor: first.nextCursor! });
      expect(second.items[0]!.id).toBe(ids[0]);
      expect(
        (await p1.list({ status: 'compensation_failed', type: 'test-saga', limit: 100 })).items.every(
          (item) => item.status === 'compensation_failed',
        ),
      ).toBe(true);
      expect((await p1.list({ type: 'no-such-type', limit: 10 })).items).toEqual([]);
    });
  });
}

sagaSuite('PGlite');
sagaSuite('PostgreSQL');
