import type { ConsumerDefinition } from '../../src/kernel/consumers/consumer.ts';
import type { Sql } from '../../src/kernel/db/database.ts';
import type { RecordedEvent } from '../../src/kernel/store/envelope.ts';

type Effect = (event: RecordedEvent, tx: Sql) => Promise<void>;
const numberOf = (event: RecordedEvent) => (event.data as { n: number }).n;

/**
 * The consumer with a batch handler that reports the event numbered `n` failed the first time (the
 * batch commits without it) and applies every other one; `calls.failures` counts the reports.
 */
export function leavingOneToItsRetry(consumer: ConsumerDefinition, n: number, effect: Effect) {
  const calls = { failures: 0 };
  const definition: ConsumerDefinition = {
    ...consumer,
    async handleBatch(events, { tx }) {
      const failed = new Map<string, unknown>();
      for (const event of events) {
        if (numberOf(event) === n && calls.failures++ === 0) failed.set(event.id, new Error('once'));
        else await effect(event, tx);
      }
      return failed;
    },
  };
  return { definition, calls };
}

/** The consumer with a handler that throws the first time it meets the event numbered `n`; `calls.attempts` counts them. */
export function throwingOnce(consumer: ConsumerDefinition, n: number, effect: Effect) {
  const calls = { attempts: 0 };
  const definition: ConsumerDefinition = {
    ...consumer,
    async handle(event, context) {
      if (numberOf(event) === n && calls.attempts++ === 0) throw new Error('once');
      await effect(event, context.tx);
    },
  };
  return { definition, calls };
}
