import { v7 as uuidv7 } from 'uuid';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Backend, type StoreFixture } from '../../../test/support/open-store.ts';
import { postgresAvailable } from '../../../test/support/postgres.ts';
import { testCatalog, ThingHappened } from '../../../test/support/test-catalog.ts';
import { toCloudEvent } from '../bus/cloudevent.ts';
import type { BusMessage } from '../bus/message.ts';
import { silentLogger } from '../logger.ts';
import { defineConsumer } from './consumer.ts';
import { ConsumerRunner } from './consumer-runner.ts';
import { DeadLetterStore } from './dead-letter-store.ts';
import { defaultRetryPolicy } from './retry-policy.ts';

const message = (id: string, n: number): BusMessage =>
  toCloudEvent(
    {
      position: n,
      tx_id: '1',
      event_id: id,
      stream_id: `thing-${n}`,
      version: 1,
      type: ThingHappened.type,
      schema_version: ThingHappened.version,
      data: { customerId: 'c1', n, note: 'x' },
      partition_key: 'c1',
      occurred_at: new Date('2026-01-01T00:00:00Z'),
      metadata: { correlationId: id, causationId: null, actor: 'test' },
    },
    ThingHappened.topic,
  );

describe.each<Backend>(['PGlite', 'PostgreSQL'])('a batch of the ConsumerRunner (%s)', (backend) => {
  let fixture: StoreFixture | undefined;
  let handled: number[];
  let runner: ConsumerRunner;

  beforeEach(async () => {
    if (backend === 'PostgreSQL' && !(await postgresAvailable())) return;
    fixture = await openStore(backend);
    handled = [];
    const consumer = defineConsumer({
      name: 'batch-inbox',
      topics: [ThingHappened.topic],
      handle: async (event) => void handled.push((event.data as { n: number }).n),
    });
    runner = new ConsumerRunner(consumer, {
      db: fixture.db,
      catalog: testCatalog,
      clock: fixture.clock,
      log: silentLogger,
      deadLetters: new DeadLetterStore(fixture.db, fixture.clock),
      retry: defaultRetryPolicy,
    });
  });

  afterEach(async () => {
    await fixture?.close();
    fixture = undefined;
  });

  it('handles each new event once: repeats in the batch and events already in the inbox are duplicates', async (context) => {
    if (!fixture) return context.skip();
    const [seen, fresh] = [uuidv7(), uuidv7()];
    expect(await runner.processBatch([message(seen, 1)])).toEqual(['processed']);
    expect(await runner.processBatch([message(fresh, 2), message(seen, 1), message(fresh, 2)])).toEqual([
      'processed',
      'duplicate',
      'duplicate',
    ]);
    expect(handled).toEqual([1, 2]);
  });

  it('takes an id written in upper case for the same event as its lower-case form', async (context) => {
    if (!fixture) return context.skip();
    const id = uuidv7();
    const outcomes = await runner.processBatch([message(id.toUpperCase(), 1), message(id, 1), message(uuidv7(), 2)]);
    expect(outcomes).toEqual(['processed', 'duplicate', 'processed']);
    expect(handled).toEqual([1, 2]);
  });
});
