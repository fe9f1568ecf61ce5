import type { ViewModule } from '../view-module.ts';

/** Analytics: a projection of subscriptions and revenue, a pipeline consumer of facts, and the Analytics API. */
export const analyticsViewModule: ViewModule = {
  name: 'analytics',
  projection: () => ({
    name: 'analytics',
    schema: 'analytics_view',
    version: 1,
    types: [],
    tables: () => '',
    apply: async () => {},
  }),
  migrations: [],
  consumers: () => [],
  routes: () => () => {},
};
