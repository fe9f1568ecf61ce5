import type { ConsumerDefinition } from '../kernel/consumers/consumer.ts';

/** The seed's consumers, wired as in the event-flow table (added by the consumers issue). */
export const reactions: ConsumerDefinition[] = [];
