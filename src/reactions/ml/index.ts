import type { ChurnScorer } from '../../domain/churn/churn-features.ts';
import type { Database } from '../../kernel/db/database.ts';
import { safetyPollMs, startDueLoop } from '../../kernel/due-loop.ts';
import type { ReactionDeps, ReactionModule } from '../reaction-module.ts';
import { ChurnTrainer } from './churn-trainer.ts';
import { CurrentChurnModel } from './current-churn-model.ts';
import { churnModelMigrations } from './migrations.ts';
import { mlTraining } from './ml-training.ts';
import { churnModelRoutes } from './routes.ts';

/**
 * Checks (real time) whether a training is due and for a newer version: at most this often, and
 * at least every safety poll while nothing is appended (versions trained by other processes, the clock).
 */
const CHECK_MIN_GAP_MS = 10_000;

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
  const check = async () => {
    await current.refresh(deps.db);
    await trainer.train('due');
    return null; // nothing known to fall due: new examples come with appends
  };
  return {
    scorer: current,
    trainer,
    start() {
      // A retraining interval shorter than the gaps (tests) is checked at its own pace.
      const { retrainIntervalMs } = deps.config.churn;
      const stop = startDueLoop({
        name: 'churn model check',
        run: check,
        appended: deps.store.appended,
        minGapMs: Math.min(CHECK_MIN_GAP_MS, retrainIntervalMs),
        maxSleepMs: Math.min(safetyPollMs(deps.db), retrainIntervalMs),
        log: deps.log,
      });
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
