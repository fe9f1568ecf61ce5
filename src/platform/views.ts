import type { ChurnScorer } from '../domain/churn/churn-features.ts';
import type { ConsumerDefinition } from '../kernel/consumers/consumer.ts';
import { consumerMigrations } from '../kernel/consumers/migrations.ts';
import type { Database } from '../kernel/db/database.ts';
import { migrate } from '../kernel/db/migrate.ts';
import { ProjectionRunner } from '../kernel/projections/projection-runner.ts';
import { openViewDatabase, viewSchemaName } from '../kernel/projections/view-database.ts';
import { retryForever } from '../kernel/retry-forever.ts';
import { churnModelOf } from '../reactions/ml/index.ts';
import { viewModules } from '../views/index.ts';
import type { ViewDeps, ViewModule } from '../views/view-module.ts';
import type { PlatformCore } from './core.ts';

export interface View {
  module: ViewModule;
  deps: ViewDeps;
  /** The view has a database of its own (else a schema of the platform's). */
  own: boolean;
  runner: ProjectionRunner;
}

/** The read side: each view in its own schema, of the platform's database or of its own. */
export async function openViews(core: PlatformCore): Promise<View[]> {
  const { config, clock, log, catalog, plans, db, store } = core;
  const churn: ChurnScorer = churnModelOf(core.reactionDeps).scorer;
  return Promise.all(
    viewModules.map(async (module) => {
      const url = config.views[module.name as 'customers' | 'subscriptions' | 'analytics'];
      const { db: viewDb, own } = await openViewDatabase(url, db, config.databasePoolSize);
      const deps: ViewDeps = {
        ...{ config, clock, log, catalog, plans, churn },
        db: viewDb,
        platformDb: db,
        schema: '',
        waitForPosition: (position) => runner.waitForPosition(position, config.views.readWaitMs),
      };
      const definition = module.projection(deps);
      deps.schema = viewSchemaName(url ?? config.databaseUrl, definition.schema);
      const runner = new ProjectionRunner(definition, {
        store,
        db: viewDb,
        schema: deps.schema,
        clock,
        log,
        batchSize: config.views.batchSize,
      });
      return { module, deps, own, runner };
    }),
  );
}

/**
 * Migrates each view's own database and creates its live schema when missing (every process reads
 * them), the views side by side: their statements queue together rather than one view after another.
 */
export async function setUpViews(views: readonly View[], core: PlatformCore, signal: AbortSignal): Promise<void> {
  await Promise.all(
    views.map(async ({ module, deps, own, runner }) => {
      const migrations = [...consumerMigrations, ...(module.migrations ?? [])];
      if (own)
        await retryForever(`${module.name} view migration`, () => migrate(deps.db, migrations), core.log, signal);
      await retryForever(`${module.name} view setup`, () => runner.setup(), core.log, signal);
    }),
  );
}

/** The views' consumers, with the database each keeps its inbox in (beside its effect: exactly-once). */
export function viewConsumers(views: readonly View[]): { consumer: ConsumerDefinition; db: Database }[] {
  return views.flatMap(({ module, deps }) =>
    (module.consumers?.(deps) ?? []).map((consumer) => ({ consumer, db: deps.db })),
  );
}
