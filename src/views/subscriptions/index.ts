import type { ViewModule } from '../view-module.ts';
import { subscriptionProjection } from './subscription-projection.ts';
import { subscriptionQueryRoutes } from './subscription-routes.ts';

/** The subscription view (`subscription_view`) and the Subscription API that reads it. */
export const subscriptionViewModule: ViewModule = {
  name: 'subscriptions',
  projection: () => subscriptionProjection(),
  routes: (deps) => subscriptionQueryRoutes(deps),
};
