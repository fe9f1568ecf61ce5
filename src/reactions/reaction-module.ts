import type { FastifyInstance } from 'fastify';
import type { EventCatalog } from '../kernel/catalog/catalog.ts';
import type { Clock } from '../kernel/clock.ts';
import type { Config } from '../kernel/config.ts';
import type { ConsumerDefinition } from '../kernel/consumers/consumer.ts';
import type { Database } from '../kernel/db/database.ts';
import type { Migration } from '../kernel/db/migrate.ts';
import type { Logger } from '../kernel/logger.ts';
import type { EventMetadata } from '../kernel/store/envelope.ts';
import type { EventStore } from '../kernel/store/event-store.ts';

/** Erases a customer (the platform's erasure workflow) and says what it did. */
export type Eraser = (
  customerId: string,
  metadata: Partial<EventMetadata>,
) => Promise<{ keyDeleted: boolean; deletedPosition: number | null }>;

/** What reactions need of a plan: its name and billing interval. */
export interface PlanInfo {
  id: string;
  name: string;
  interval: 'month' | 'year';
}

/** What a reaction module gets from the platform. */
export interface ReactionDeps {
  config: Config;
  /** The plan catalog the platform loaded; undefined for a plan it no longer lists. */
  plans: { get(planId: string): PlanInfo | undefined };
  db: Database;
  store: EventStore;
  catalog: EventCatalog;
  clock: Clock;
  log: Logger;
  /** The erasure workflow, for the compliance check's retention erasures (the platform supplies it). */
  erase?: Eraser;
}

/**
 * A group of consumers with their tables and their API (email, billing, audit...): the platform
 * migrates its tables, subscribes its consumers (one consumer group each) and serves its routes.
 */
export interface ReactionModule {
  name: string;
  migrations: Migration[];
  consumers(deps: ReactionDeps): ConsumerDefinition[];
  /** Routes of its API; `requireAdmin`/`requireOwner` from src/http/auth.ts guard them. */
  routes?(deps: ReactionDeps): (app: FastifyInstance) => void;
  /** Background work (e.g. scheduled checks); returns how to stop it. */
  start?(deps: ReactionDeps): () => Promise<void>;
}
