import type { ConsumerDefinition } from '../kernel/consumers/consumer.ts';
import { auditLogModule } from './audit/audit-log-module.ts';
import { billingModule } from './billing/index.ts';
import { complianceModule } from './compliance/index.ts';
import { emailModule } from './email/index.ts';
import { mlModule } from './ml/index.ts';
import type { ReactionDeps, ReactionModule } from './reaction-module.ts';

/** The seed's reactions, each module wiring its consumers as in the event-flow table. */
export const reactionModules: ReactionModule[] = [
  auditLogModule,
  emailModule,
  billingModule,
  complianceModule,
  mlModule,
];

export const reactionMigrations = () => reactionModules.flatMap((module) => module.migrations);

export const reactionConsumers = (deps: ReactionDeps): ConsumerDefinition[] =>
  reactionModules.flatMap((module) => module.consumers(deps));
