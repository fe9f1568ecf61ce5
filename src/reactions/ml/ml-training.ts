import type { Clock } from '../../kernel/clock.ts';
import { defineConsumer } from '../../kernel/consumers/consumer.ts';
import type { EventStore } from '../../kernel/store/event-store.ts';
import { exampleOf, examplesOf, recordExample, recordExamples } from './churn-examples.ts';

/**
 * subscription.renewed / subscription.cancelled → a labelled example for the churn model, written
 * in the handler's transaction (exactly-once with the inbox). `onExample` tells the trainer that
 * one more may be due (it checks after the transaction has had time to commit).
 */
export const mlTraining = (deps: { store: EventStore; clock: Clock; onExample?: () => void }) =>
  defineConsumer({
    name: 'ml-training',
    topics: ['subscription.renewed', 'subscription.cancelled'],
    async handle(event, { tx, log }) {
      const example = await exampleOf(deps.store, tx, event);
      if (!example) {
        log.debug({ type: event.type }, 'not a churn example');
        return;
      }
      if (await recordExample(tx, event.id, example, deps.clock)) deps.onExample?.();
    },
    async handleBatch(events, { tx }) {
      const examples = await examplesOf(deps.store, tx, events);
      const labelled = examples.flatMap((example, index) => (example ? [{ eventId: events[index]!.id, example }] : []));
      if ((await recordExamples(tx, labelled, deps.clock)) > 0) deps.onExample?.();
    },
  });
