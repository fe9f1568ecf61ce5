import type { Bus } from '../kernel/bus/bus.ts';
import { OutboxRelay, type OutboxPublisher } from '../kernel/outbox/outbox-relay.ts';
import type { PlatformCore } from './core.ts';
import { whileHolding } from '../kernel/db/try-lock.ts';
import type { RunningRole } from './role.ts';

const publishes = (bus: Bus): bus is Bus & OutboxPublisher =>
  typeof (bus as Partial<OutboxPublisher>).publish === 'function';

/**
 * Publishes the store's log to Kafka after commit (with the embedded bus, consumers read the log
 * itself: nothing to relay). Any number of relay processes may run: one publishes at a time
 * (advisory lock per batch), the others stand by.
 */
export async function startRelay(core: PlatformCore): Promise<RunningRole & { relay: OutboxRelay | undefined }> {
  const { bus, store, catalog, clock, log, db } = core;
  if (!publishes(bus)) return { role: 'relay', relay: undefined, stop: async () => {} };
  const relay = new OutboxRelay({
    store,
    catalog,
    publisher: bus,
    clock,
    log,
    leader: (work) => whileHolding(db, 'tributary.relay', work),
  });
  await relay.start();
  return { role: 'relay', relay, stop: () => relay.stop() };
}
