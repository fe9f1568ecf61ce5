import type { FastifyInstance } from 'fastify';
import type { Subscription } from '../../kernel/bus/bus.ts';
import type { EventCatalog } from '../../kernel/catalog/catalog.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Database } from '../../kernel/db/database.ts';
import type { EventStore } from '../../kernel/store/event-store.ts';
import { adminEventRoutes } from './admin-events-routes.ts';
import { adminFlowRoutes } from './admin-flow-routes.ts';
import { adminSessionRoutes, type AdminSessions } from './admin-session.ts';
import { EventFlow, type ConsumerWiring } from './event-flow.ts';
import { webFrontRoutes } from './web-front.ts';

export { AdminSessions } from './admin-session.ts';

/** What the web front needs beyond the service APIs: the console's session, the event log and flow, the pages. */
export const webRoutes = (deps: {
  db: Database;
  store: EventStore;
  clock: Clock;
  catalog: EventCatalog;
  consumers: readonly ConsumerWiring[];
  subscriptions: readonly Subscription[];
  sessions: AdminSessions;
}): ((app: FastifyInstance) => void)[] => [
  adminSessionRoutes(deps.sessions),
  adminEventRoutes({ store: deps.store }),
  adminFlowRoutes(new EventFlow(deps)),
  webFrontRoutes(),
];
