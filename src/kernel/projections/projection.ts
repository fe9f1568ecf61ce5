import type { Sql } from '../db/database.ts';
import type { ProjectedEvent } from '../store/envelope.ts';

export interface ProjectionContext {
  /** The view database's transaction: the view change commits with the projection's checkpoint. */
  tx: Sql;
  /**
   * The schema to write into (already a safe identifier): the live view's, or its shadow's during
   * a rebuild. Always qualify table names with it, never rely on search_path.
   */
  schema: string;
  /** What `prefetch` resolved to for this batch (undefined without one). */
  prefetched: unknown;
}

/**
 * A read model built from the event store's global log. Its tables live in a schema of their
 * own, which the runner can rebuild from the start of the log into a shadow schema and swap in.
 */
export interface ProjectionDefinition {
  /** Short name, used in URLs, metrics and the CLI: `customers`, `subscriptions`, `analytics`. */
  name: string;
  /** Base name of its schema (`customer_view`); see `viewSchemaName`. */
  schema: string;
  /** Bump when the tables or `apply` change: a process starting with a new version rebuilds the view. */
  version: number;
  /** Event types `apply` receives; the checkpoint still moves over every other event. */
  types: readonly string[];
  /** DDL creating the tables and indexes in `schema` (called for the live schema and for every shadow). */
  tables(schema: string): string;
  /**
   * DDL creating the secondary indexes in `schema`, apart from `tables` so that a rebuild fills its
   * shadow without maintaining them row by row and builds each once before the swap; a new live
   * schema gets them with its tables. Queries may rely on them only in the live schema.
   */
  indexes?(schema: string): string;
  /**
   * Reads what `apply` needs from outside the view database (customer keys to decrypt personal
   * data), before the batch's transaction: embedded, the view and the platform share one PGlite
   * connection, which that transaction holds.
   */
  prefetch?(events: readonly ProjectedEvent[]): Promise<unknown>;
  /**
   * Applies a batch of events in log order, in one transaction; set-based SQL keeps rebuilds fast.
   * The events carry their type, data and place in the log, not the rest of the envelope (`ProjectedEvent`).
   */
  apply(events: readonly ProjectedEvent[], context: ProjectionContext): Promise<void>;
}

export const defineProjection = (definition: ProjectionDefinition): ProjectionDefinition => definition;
