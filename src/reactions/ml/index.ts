import type { ChurnScorer } from '../../domain/churn/churn-features.ts';
import { ClockDrivenJob } from '../../kernel/clock-driven-job.ts';
import type { Database } from '../../kernel/db/database.ts';
import type { ReactionDeps, ReactionModule } from '../reaction-module.ts';
import { ChurnTrainer } from './churn-trainer.ts';
import { CurrentChurnModel } from './current-churn-model.ts';
import { churnModelMigrations } from './migrations.ts';
import { mlTraining } from './ml-training.ts';
import { churnModelRoutes } from './routes.ts';

/** How often (real time) the trainer checks whether a training is due and the scorer looks for a newer version. */
const CHECK_INTERVAL_MS = 10_000;

export interface ChurnModel {
  /** Scores with the current version; null before one is trained. */
  scorer: ChurnScorer;
  trainer: ChurnTrainer;
  /** The periodic check (training when due, loading versions other processes trained); returns how to stop it. */
  start(): () => Promise<void>;
}

function createChurnModel(deps: ReactionDeps): ChurnModel {
  const current = new CurrentChurnModel(deps.log);
  const trainer = new ChurnTrainer({
    db: deps.db,
    clock: deps.clock,
    log: deps.log,
    retrainEvery: deps.config.churn.retrainEvery,
    retrainIntervalMs: deps.config.churn.retrainIntervalMs,
    onTrained: (model) => current.use(model.version, model.parameters),
  });
  const check = new ClockDrivenJob({
    name: 'churn model check',
    intervalMs: Math.min(CHECK_INTERVAL_MS, deps.config.churn.retrainIntervalMs),
    log: deps.log,
    run: async () => {
      await current.refresh(deps.db);
      const outcome = await trainer.train('due');
      return outcome.status === 'trained' ? 1 : 0;
    },
  });
  return {
    scorer: current,
    trainer,
    start() {
      void check
        .catchUp()
        .catch((error: unknown) =>
          deps.log.error({ err: error }, 'churn model check failed; retrying at the next run'),
        );
      const stop = check.start();
      return async () => {
        await stop();
        await trainer.stop();
      };
    },
  };
}

// One per platform (its database): the consumer, the routes, the timer and the views' scorer share it.
const instances = new WeakMap<Database, ChurnModel>();

/** The platform's churn model: `churnModelOf(reactionDeps).scorer` is the ChurnScorer the views use. */
export function churnModelOf(deps: ReactionDeps): ChurnModel {
  let model = instances.get(deps.db);
  if (!model) {
    model = createChurnModel(deps);
    instances.set(deps.db, model);
  }
  return model;
}

/**
 * ML: ml-training (subscription.renewed, subscription.cancelled) records labelled churn examples;
 * the trainer fits a logistic regression every `CHURN_RETRAIN_EVERY` new examples or every
 * `CHURN_RETRAIN_INTERVAL_MS` of the clock, evaluated on held-out subscriptions; the versions at
 * GET /analytics/churn-model, a training on demand at POST /analytics/churn-model/train.
 */
export const mlModule: ReactionModule = {
  name: 'ml',
  migrations: churnModelMigrations,
  consumers: (deps) => [
    mlTraining({ store: deps.store, clock: deps.clock, onExample: () => churnModelOf(deps).trainer.nudge() }),
  ],
  routes: (deps) => churnModelRoutes({ db: deps.db, trainer: churnModelOf(deps).trainer }),
  start: (deps) => churnModelOf(deps).start(),
};
