import type { Database } from '../../kernel/db/database.ts';
import type { ReactionDeps, ReactionModule } from '../reaction-module.ts';
import type { ClockDrivenJob } from '../../kernel/clock-driven-job.ts';
import { complianceChecker } from './checks.ts';
import { complianceCheck } from './compliance-check.ts';
import { complianceMigrations } from './migrations.ts';
import { complianceRoutes } from './routes.ts';

// One checker per platform (its database): the timer and GET /compliance/findings share it.
const checkers = new WeakMap<Database, ClockDrivenJob>();
const checkerOf = (deps: ReactionDeps): ClockDrivenJob => {
  let checker = checkers.get(deps.db);
  if (!checker) {
    const erase = deps.erase;
    if (!erase) throw new Error('the compliance checks need the erasure workflow (ReactionDeps.erase)');
    checker = complianceChecker({
      db: deps.db,
      store: deps.store,
      clock: deps.clock,
      log: deps.log,
      erase,
      retentionDays: deps.config.compliance.retentionDays,
      intervalMs: deps.config.compliance.checkIntervalMs,
    });
    checkers.set(deps.db, checker);
  }
  return checker;
};

/**
 * Compliance: compliance-check (subscription.cancelled) records what each cancellation obliges the
 * platform to; a clock-driven checker verifies it when due (and erases customers' personal data
 * after the retention period); findings at GET /compliance/findings, violations as a metric.
 */
export const complianceModule: ReactionModule = {
  name: 'compliance',
  migrations: complianceMigrations,
  consumers: (deps) => [
    complianceCheck({
      graceHours: deps.config.compliance.graceHours,
      retentionDays: deps.config.compliance.retentionDays,
    }),
  ],
  routes: (deps) => complianceRoutes({ db: deps.db, checker: checkerOf(deps) }),
  start: (deps) => checkerOf(deps).start(),
};
