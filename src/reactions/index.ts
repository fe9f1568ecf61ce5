import type { ConsumerDefinition } from '../kernel/consumers/consumer.ts';
import type { ReactionDeps, ReactionModule } from './reaction-module.ts';

/** The seed's reactions, each module wiring its consumers as in the event-flow table. */
export const reactionModules: ReactionModule[] = [];

export const reactionMigrations = () => reactionModules.flatMap((module) => module.migrations);

export const reactionConsumers = (deps: ReactionDeps): ConsumerDefinition[] => reactionModules.flatMap((module) => module.consumers(deps));
