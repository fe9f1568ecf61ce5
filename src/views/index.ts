import { analyticsViewModule } from './analytics/index.ts';
import { customerViewModule } from './customers/index.ts';
import { subscriptionViewModule } from './subscriptions/index.ts';
import type { ViewModule } from './view-module.ts';

/** The read side: each view's projection, read database and query API. */
export const viewModules: ViewModule[] = [customerViewModule, subscriptionViewModule, analyticsViewModule];
