import type { ViewModule } from '../view-module.ts';
import { analyticsPipeline } from './analytics-pipeline.ts';
import { analyticsProjection } from './analytics-projection.ts';
import { analyticsMigrations } from './migrations.ts';
import { analyticsRoutes } from './routes.ts';

/**
 * Analytics: a projection of subscriptions and revenue (the exact summary), the analytics
 * pipeline turning bus events into facts (time series, cohorts), and the Analytics API.
 */
export const analyticsViewModule: ViewModule = {
  name: 'analytics',
  projection: () => analyticsProjection(),
  migrations: analyticsMigrations,
  consumers: () => [analyticsPipeline()],
  routes: (deps) => analyticsRoutes(deps),
};
