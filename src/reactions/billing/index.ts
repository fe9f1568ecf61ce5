import type { Database } from '../../kernel/db/database.ts';
import type { ReactionDeps, ReactionModule } from '../reaction-module.ts';
import { glPosting } from './gl-posting.ts';
import { invoiceGenerator } from './invoice-generator.ts';
import { invoiceRoutes } from './invoice-routes.ts';
import { ledgerRoutes } from './ledger-routes.ts';
import { billingMigrations } from './migrations.ts';
import { planLookup, type PlanLookup } from './plans.ts';
import type { ClockDrivenJob } from '../../kernel/clock-driven-job.ts';
import { revenueRecognizer } from './revenue-recognizer.ts';

interface Billing {
  plans: PlanLookup;
  recognizer: ClockDrivenJob;
}

// One per platform (its database): the consumers, the routes and the timer share the plan catalog and the recognizer.
const instances = new WeakMap<Database, Billing>();
const billingOf = (deps: ReactionDeps): Billing => {
  let billing = instances.get(deps.db);
  if (!billing) {
    billing = {
      plans: planLookup(deps.plans),
      recognizer: revenueRecognizer({
        db: deps.db,
        clock: deps.clock,
        log: deps.log,
        intervalMs: deps.config.billing.recognitionIntervalMs,
      }),
    };
    instances.set(deps.db, billing);
  }
  return billing;
};

/** The consumers of billing, wired as in the event-flow table (gl-posting also reads payment.refunded, to reverse refunds). */
export const billingConsumers = (deps: ReactionDeps) => {
  const { plans } = billingOf(deps);
  const common = { store: deps.store, plans, clock: deps.clock };
  return [invoiceGenerator(common), glPosting(common)];
};

/**
 * Billing: invoices (invoice-generator; GET /invoices...) and the general ledger (gl-posting,
 * revenue recognition by the clock; GET /ledger/...).
 */
export const billingModule: ReactionModule = {
  name: 'billing',
  migrations: billingMigrations,
  consumers: billingConsumers,
  routes(deps) {
    const { recognizer } = billingOf(deps);
    return (app) => {
      invoiceRoutes({ db: deps.db, store: deps.store })(app);
      ledgerRoutes({ db: deps.db, clock: deps.clock, recognizer })(app);
    };
  },
  start: (deps) => billingOf(deps).recognizer.start(),
};
