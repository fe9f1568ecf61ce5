import type { ViewModule } from '../view-module.ts';

/** The subscription read model and the Subscription API (filled in next). */
export const subscriptionViewModule: ViewModule = {
  name: 'subscriptions',
  projection: () => ({ name: 'subscriptions', schema: 'subscription_view', version: 1, types: [], tables: () => '', apply: async () => {} }),
  routes: () => () => {},
};
