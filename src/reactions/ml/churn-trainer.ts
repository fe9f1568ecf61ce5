import type { Clock } from '../../kernel/clock.ts';
import type { Database } from '../../kernel/db/database.ts';
import type { Logger } from '../../kernel/logger.ts';
import { loadExamples } from './churn-examples.ts';
import { countExamples, currentModelVersion, storeModelVersion, type ChurnModelVersion } from './churn-model-store.ts';
import type { SetSizes } from './train-churn-model.ts';

export type TrainingOutcome =
  | { status: 'trained'; model: ChurnModelVersion }
  | ({ status: 'no_model'; reason: string } & SetSizes)
  | { status: 'not_due'; reason: string }
  | { status: 'busy'; reason: string };

export interface ChurnTrainerDeps {
  db: Database;
  clock: Clock;
  log: Logger;
  /** Retrain once this many examples are new since the last training... */
  retrainEvery: number;
  /** ...or once this long has passed on the platform clock and there is any new example. */
  retrainIntervalMs: number;
  onTrained(model: ChurnModelVersion): void;
}

/**
 * Trains churn models: when due (every `retrainEvery` new examples, or after `retrainIntervalMs`
 * of the platform clock when there are new examples) or on demand. One training at a time: in this
 * process by queueing, across processes by a transaction-level advisory lock, under which the
 * decision is taken again from the database (another process may just have trained).
 */
export class ChurnTrainer {
  private queue: Promise<unknown> = Promise.resolve();
  private nudgeTimer: NodeJS.Timeout | undefined;
  /** The last training that found too few examples or one class: not retried before new examples arrive. */
  private lastRefusal: { examples: number; at: number } | undefined;

  constructor(private readonly deps: ChurnTrainerDeps) {}

  /** Trains now if due (`due`) or regardless (`now`); resolves when this request has run. */
  train(when: 'now'): Promise<Exclude<TrainingOutcome, { status: 'not_due' }>>;
  train(when: 'due'): Promise<TrainingOutcome>;
  train(when: 'due' | 'now'): Promise<TrainingOutcome> {
    const run = this.queue.then(() => this.trainOnce(when));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * A new example was recorded (in a transaction not yet committed): check shortly whether a
   * training is due. Checks coalesce; the periodic check catches what one misses.
   */
  nudge(): void {
    if (this.nudgeTimer) return;
    this.nudgeTimer = setTimeout(() => {
      this.nudgeTimer = undefined;
      this.train('due').catch((error: unknown) =>
        this.deps.log.error({ err: error }, 'churn model training failed; retrying when next due'),
      );
    }, NUDGE_DELAY_MS);
    this.nudgeTimer.unref();
  }

  /** Waits for the trainings requested so far. */
  async stop(): Promise<void> {
    clearTimeout(this.nudgeTimer);
    this.nudgeTimer = undefined;
    await this.queue;
  }

  private async trainOnce(when: 'due' | 'now'): Promise<TrainingOutcome> {
    const { db, clock, log } = this.deps;
    const outcome = await db.transaction(async (tx): Promise<TrainingOutcome> => {
      const { rows } = await tx.query<{ locked: boolean }>(
        `select pg_try_advisory_xact_lock(hashtext(current_schema() || '.churn_training')) as locked`,
      );
      if (!rows[0]!.locked) return { status: 'busy', reason: 'another process is training' };
      const now = clock.now();
      if (when === 'due') {
        const notDue = this.notDue(await countExamples(tx), await currentModelVersion(tx), now);
        if (notDue) return { status: 'not_due', reason: notDue };
      }
      const examples = await loadExamples(tx);
      // Loaded with the first training: its matrix library is no part of a start.
      const { trainChurnModel } = await import('./train-churn-model.ts');
      const result = trainChurnModel(examples);
      if (!result.trained) {
        this.lastRefusal = { examples: examples.length, at: now.getTime() };
        const { trained: _, ...refusal } = result;
        return { status: 'no_model', ...refusal };
      }
      this.lastRefusal = undefined;
      const { trained: _, ...model } = result;
      return { status: 'trained', model: await storeModelVersion(tx, { ...model, trainedAt: now }) };
    });
    if (outcome.status === 'trained') {
      const { version, auc, logLoss, trainingSize, testSize } = outcome.model;
      log.info({ version, auc, logLoss, trainingSize, testSize }, 'churn model trained');
      this.deps.onTrained(outcome.model);
    } else if (outcome.status === 'no_model') {
      log.info(
        { reason: outcome.reason, trainingSize: outcome.trainingSize, testSize: outcome.testSize },
        'no churn model trained',
      );
    }
    return outcome;
  }

  /** Why a training is not due yet, or null when it is. */
  private notDue(examples: { total: number }, current: ChurnModelVersion | null, now: Date): string | null {
    const seen = Math.max(current ? current.trainingSize + current.testSize : 0, this.lastRefusal?.examples ?? 0);
    const fresh = examples.total - seen;
    if (fresh <= 0) return 'no new examples';
    if (fresh >= this.deps.retrainEvery) return null;
    const since = current?.trainedAt.getTime() ?? this.lastRefusal?.at;
    if (since === undefined || now.getTime() - since >= this.deps.retrainIntervalMs) return null;
    return `${fresh} new examples of ${this.deps.retrainEvery}, and the interval has not passed`;
  }
}

/** Gives the transaction that recorded an example time to commit before the count. */
const NUDGE_DELAY_MS = 100;
