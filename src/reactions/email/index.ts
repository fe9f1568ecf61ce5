import type { ReactionDeps, ReactionModule } from '../reaction-module.ts';
import { createMailer } from './mailer.ts';
import { emailMigrations } from './migrations.ts';
import { paymentReceipt } from './payment-receipt.ts';
import { renewalNotice } from './renewal-notice.ts';
import { recipientForgetter } from './recipient-forgetter.ts';
import { emailRoutes } from './routes.ts';
import type { EmailDeps } from './send-once.ts';
import { welcomeEmail } from './welcome-email.ts';

const emailDeps = (deps: ReactionDeps): EmailDeps => ({
  store: deps.store,
  clock: deps.clock,
  mailer: createMailer(deps.config),
  plan: async (planId) => deps.plans.get(planId),
});

/**
 * Email: welcome, receipt and renewal notice, each its own consumer group, and the forgetting of
 * an erased customer's addresses; the log at GET /emails.
 */
export const emailModule: ReactionModule = {
  name: 'email',
  migrations: emailMigrations,
  consumers(deps) {
    const email = emailDeps(deps);
    return [welcomeEmail(email), paymentReceipt(email), renewalNotice(email), recipientForgetter];
  },
  routes: (deps) => emailRoutes({ db: deps.db, dataDir: deps.config.dataDir }),
};
