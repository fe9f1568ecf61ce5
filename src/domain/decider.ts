/** A command or an event as the deciders see them: a type and its data. */
export interface Message<Type extends string = string, Data = unknown> {
  readonly type: Type;
  readonly data: Data;
}

/** command + state → events; events → state. Pure: no I/O, no clock, no randomness. */
export interface Decider<Command, State, Event> {
  decide: (command: Command, state: State) => Event[];
  evolve: (state: State, event: Event) => State;
  initialState: State;
}

/** The state after `events`, e.g. a stream read back from the store. */
export const fold = <Command, State, Event>(decider: Decider<Command, State, Event>, events: readonly Event[]): State =>
  events.reduce(decider.evolve, decider.initialState);
