import type { FastifyInstance } from 'fastify';
import type { ChurnScorer } from '../domain/churn/churn-features.ts';
import type { EventCatalog } from '../kernel/catalog/catalog.ts';
import type { Clock } from '../kernel/clock.ts';
import type { Config } from '../kernel/config.ts';
import type { ConsumerDefinition } from '../kernel/consumers/consumer.ts';
import type { Database } from '../kernel/db/database.ts';
import type { Migration } from '../kernel/db/migrate.ts';
import type { Logger } from '../kernel/logger.ts';
import type { ProjectionDefinition } from '../kernel/projections/projection.ts';

/** What a view's projection, consumers and query API get from the platform. */
export interface ViewDeps {
  config: Config;
  clock: Clock;
  log: Logger;
  catalog: EventCatalog;
  /** The view's read database: its own URL, or the platform's database. The query API reads nothing else. */
  db: Database;
  /**
   * The platform's database (event store, customer keys). Only a projection may read from it (to
   * decrypt personal data with the customer's key); query routes read `db` alone.
   */
  platformDb: Database;
  /** The live schema of the view's projection (a safe identifier): qualify every table with it. */
  schema: string;
  /**
   * Read-your-writes: resolves once the projection has applied the event at store position
   * `minPosition` (at once when undefined); else throws `ProjectionBehindError` (503 problem+json).
   */
  waitForPosition(minPosition: number | undefined): Promise<void>;
  /** The plan catalog (names, intervals) the platform loaded. */
  plans: { get(planId: string): { id: string; name: string; interval: 'month' | 'year' } | undefined };
  /** The current churn model (the Subscription API's `churnRisk`). */
  churn: ChurnScorer;
}

/**
 * A read model and its query API (customers, subscriptions, analytics): the platform runs its
 * projection over the store's global log, its consumers on the bus, and serves its routes.
 */
export interface ViewModule {
  name: string;
  projection(deps: ViewDeps): ProjectionDefinition;
  /** Tables of its consumers in the view database's own schema: kept across projection rebuilds. */
  migrations?: Migration[];
  /** Consumers writing into the view database (their inbox is there too: exactly-once effect). */
  consumers?(deps: ViewDeps): ConsumerDefinition[];
  routes(deps: ViewDeps): (app: FastifyInstance) => void;
}
