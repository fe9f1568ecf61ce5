import type { SubscriptionRenewedData } from '../../domain/events/subscription-renewed.ts';
import { emailConsumer, type EmailDeps } from './send-once.ts';
import { renewalNotice as renewalTemplate } from './templates.ts';

/** subscription.renewed → a renewal notice: the new period and what it cost. */
export const renewalNotice = (deps: EmailDeps) =>
  emailConsumer(deps, {
    type: 'renewal-notice',
    topics: ['subscription.renewed'],
    customerIdOf: (event) => (event.data as SubscriptionRenewedData).customerId,
    prepare: async () => undefined,
    async render(event, recipient) {
      const renewal = event.data as SubscriptionRenewedData;
      const plan = await deps.plan(renewal.planId);
      return renewalTemplate({
        name: recipient.name,
        planName: plan?.name ?? renewal.planId,
        amount: renewal.amount,
        currency: renewal.currency,
        period: renewal.period,
      });
    },
  });
