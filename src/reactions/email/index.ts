import type { Database } from '../../kernel/db/database.ts';
import type { ReactionDeps, ReactionModule } from '../reaction-module.ts';
import { createMailer, type Mailer } from './mailer.ts';
import { emailMigrations } from './migrations.ts';
import { paymentReceipt } from './payment-receipt.ts';
import { renewalNotice } from './renewal-notice.ts';
import { recipientForgetter } from './recipient-forgetter.ts';
import { emailRoutes } from './routes.ts';
import type { EmailDeps } from './send-once.ts';
import { welcomeEmail } from './welcome-email.ts';

// One mailer per platform (its database): the three consumers share its pooled SMTP connections.
const mailers = new WeakMap<Database, Mailer>();
const mailerOf = (deps: ReactionDeps): Mailer => {
  let mailer = mailers.get(deps.db);
  if (!mailer) mailers.set(deps.db, (mailer = createMailer(deps.config)));
  return mailer;
};

const emailDeps = (deps: ReactionDeps): EmailDeps => ({
  store: deps.store,
  clock: deps.clock,
  mailer: mailerOf(deps),
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
  // Nothing to start; at stop, the SMTP connections close (after the consumers have stopped).
  start: (deps) => async () => {
    const mailer = mailers.get(deps.db);
    mailers.delete(deps.db);
    await mailer?.close?.();
  },
};
