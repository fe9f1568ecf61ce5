import type { Decider } from '../domain/decider.ts';
import type { Sql } from '../kernel/db/database.ts';
import type { AppendResult, EventMetadata } from '../kernel/store/envelope.ts';
import type { DeferredWrites } from '../kernel/store/deferred-writes.ts';
import type { EventStore } from '../kernel/store/event-store.ts';

export interface Handled<State> {
  state: State;
  /** Null when the decider had nothing new to say (a repeated command), or the append was deferred. */
  appended: AppendResult | null;
}

/**
 * Loads a stream, decides, appends with the version it read (a concurrent writer makes it fail
 * with a ConcurrencyError instead of deciding on stale state) and returns the new state.
 */
export async function handleCommand<Command, State, Event extends { type: string; data: unknown }>(
  store: EventStore,
  decider: Decider<Command, State, Event>,
  streamId: string,
  command: Command,
  options: {
    tx?: Sql;
    metadata?: Partial<EventMetadata>;
    /** The stream's id was made for this command: nothing to read (the append fails if it exists after all). */
    newStream?: boolean;
    /** The stream as the caller just read it (in `tx`): not read again; a stale one fails the append. */
    loaded?: { state: State; version: number };
    /** Hands the append to whoever ends the unit of work (a saga's checkpoint) instead of making it. */
    defer?: DeferredWrites;
  } = {},
): Promise<Handled<State>> {
  const { state, version } = options.loaded ?? (await load(store, decider, streamId, options));
  const events = decider.decide(command, state);
  if (events.length === 0) return { state, appended: null };
  const append = {
    streamId,
    events: events.map((event) => ({ type: event.type, data: event.data, metadata: options.metadata })),
    expectedVersion: options.newStream ? ('no_stream' as const) : version,
  };
  options.defer?.append(append);
  const appended = options.defer
    ? null
    : await store.append(append.streamId, append.events, { ...append, tx: options.tx });
  return { state: events.reduce(decider.evolve, state), appended };
}

async function load<Command, State, Event extends { type: string; data: unknown }>(
  store: EventStore,
  decider: Decider<Command, State, Event>,
  streamId: string,
  options: { tx?: Sql; newStream?: boolean },
): Promise<{ state: State; version: number }> {
  const history = options.newStream ? [] : await store.readStream(streamId, { tx: options.tx });
  const state = history.reduce(
    (current, event) => decider.evolve(current, event as unknown as Event),
    decider.initialState,
  );
  return { state, version: history.length };
}
