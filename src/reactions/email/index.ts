import type { Plan } from '../../services/plans/index.ts';
import { loadPlans } from '../../services/plans/index.ts';
import type { ReactionDeps, ReactionModule } from '../reaction-module.ts';
import { createMailer } from './mailer.ts';
import { emailMigrations } from './migrations.ts';
import { paymentReceipt } from './payment-receipt.ts';
import { renewalNotice } from './renewal-notice.ts';
import { emailRoutes } from './routes.ts';
import type { EmailDeps } from './send-once.ts';
import { welcomeEmail } from './welcome-email.ts';

/** The plan catalog, loaded on first use (the platform validated it at start). */
function planLookup(plansFile: string | undefined): EmailDeps['plan'] {
  let catalog: Promise<Map<string, Plan>> | undefined;
  return async (planId) => {
    catalog ??= loadPlans(plansFile).then(
      (plans) => new Map(plans.list().map((plan) => [plan.id, plan])),
      (error: unknown) => {
        catalog = undefined; // the next email tries again
        throw error;
      },
    );
    return (await catalog).get(planId);
  };
}

const emailDeps = (deps: ReactionDeps): EmailDeps => ({
  store: deps.store,
  clock: deps.clock,
  mailer: createMailer(deps.config),
  plan: planLookup(deps.config.plansFile),
});

/** Email: welcome, receipt and renewal notice, each its own consumer group; the log at GET /emails. */
export const emailModule: ReactionModule = {
  name: 'email',
  migrations: emailMigrations,
  consumers(deps) {
    const email = emailDeps(deps);
    return [welcomeEmail(email), paymentReceipt(email), renewalNotice(email)];
  },
  routes: (deps) => emailRoutes({ db: deps.db }),
};
