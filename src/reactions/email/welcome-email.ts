import { defineConsumer } from '../../kernel/consumers/consumer.ts';
import type { CustomerRegisteredData } from '../../domain/events/customer-registered.ts';
import { sendOnce, type EmailDeps } from './send-once.ts';
import { welcomeEmail as welcomeTemplate } from './templates.ts';

/** customer.registered → a welcome email. */
export const welcomeEmail = (deps: EmailDeps) =>
  defineConsumer({
    name: 'welcome-email',
    // An email sent inside a batch that later rolls back would be sent again: one event per transaction.
    batch: false,
    topics: ['customer.registered'],
    async handle(event, context) {
      const data = event.data as CustomerRegisteredData;
      await sendOnce(deps, context, {
        event,
        type: 'welcome-email',
        customerId: data.customerId,
        async render(recipient) {
          const plan = await deps.plan(data.planId);
          return welcomeTemplate({ name: recipient.name, planName: plan?.name ?? data.planId });
        },
      });
    },
  });
