import { expect } from 'vitest';
import type { Decider } from '../../src/domain/decider.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any error class, whatever its constructor takes
type ErrorClass = abstract new (...args: any[]) => Error;

export interface DeciderSpecOptions<Event> {
  /** Runs on every event `then` expects, e.g. the event catalog's schema check. */
  validate?: (event: Event) => void;
}

/**
 * given/when/then for any decider:
 *
 *   const { given } = deciderSpec(subscriptionDecider);
 *   given([created, renewed]).when(cancel).then([cancelled]);
 *   given([]).when(renew).thenThrows(NotFoundError, 'subscription_not_found');
 *
 * `then` also folds the new events into the state and returns it, so a test can look at it.
 */
export function deciderSpec<Command, State, Event>(
  decider: Decider<Command, State, Event>,
  options: DeciderSpecOptions<Event> = {},
) {
  const given = (events: readonly Event[]) => {
    const state = events.reduce(decider.evolve, decider.initialState);
    return {
      when: (command: Command) => ({
        then(expected: readonly Event[]): State {
          const produced = decider.decide(command, state);
          expect(produced).toEqual(expected);
          for (const event of produced) options.validate?.(event);
          return produced.reduce(decider.evolve, state);
        },
        thenThrows(errorClass: ErrorClass, code?: string): Error {
          let thrown: unknown;
          try {
            decider.decide(command, state);
          } catch (error) {
            thrown = error;
          }
          expect(thrown, 'the decider should have thrown').toBeInstanceOf(errorClass);
          if (code !== undefined) expect(thrown).toHaveProperty('code', code);
          return thrown as Error;
        },
      }),
      /** The state after the given events. */
      state,
    };
  };
  return { given };
}
