import type { SubscriptionRenewedData } from '../../domain/events/subscription-renewed.ts';
import { defineConsumer } from '../../kernel/consumers/consumer.ts';
import { sendOnce, type EmailDeps } from './send-once.ts';
import { renewalNotice as renewalTemplate } from './templates.ts';

/** subscription.renewed → a renewal notice: the new period and what it cost. */
export const renewalNotice = (deps: EmailDeps) =>
  defineConsumer({
    name: 'renewal-notice',
    // An email sent inside a batch that later rolls back would be sent again: one event per transaction.
    batch: false,
    topics: ['subscription.renewed'],
    async handle(event, context) {
      const renewal = event.data as SubscriptionRenewedData;
      await sendOnce(deps, context, {
        event,
        type: 'renewal-notice',
        customerId: renewal.customerId,
        async render(recipient) {
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
    },
  });
