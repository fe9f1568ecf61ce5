import type { CustomerRegisteredData } from '../../domain/events/customer-registered.ts';
import { emailConsumer, type EmailDeps } from './send-once.ts';
import { welcomeEmail as welcomeTemplate } from './templates.ts';

/** customer.registered → a welcome email. */
export const welcomeEmail = (deps: EmailDeps) =>
  emailConsumer(deps, {
    type: 'welcome-email',
    topics: ['customer.registered'],
    customerIdOf: (event) => (event.data as CustomerRegisteredData).customerId,
    prepare: async () => undefined,
    async render(event, recipient) {
      const data = event.data as CustomerRegisteredData;
      const plan = await deps.plan(data.planId);
      return welcomeTemplate({ name: recipient.name, planName: plan?.name ?? data.planId });
    },
  });
