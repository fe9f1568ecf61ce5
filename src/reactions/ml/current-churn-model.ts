import type { ChurnFeatures, ChurnScorer } from '../../domain/churn/churn-features.ts';
import type { Sql } from '../../kernel/db/database.ts';
import type { Logger } from '../../kernel/logger.ts';
import { churnModelParametersSchema, churnProbability, type ChurnModelParameters } from './churn-model.ts';
import { currentModelVersion } from './churn-model-store.ts';

/**
 * The current model version, kept in memory so scoring is synchronous: replaced after each
 * training in this process and refreshed from the database (other processes may train).
 */
export class CurrentChurnModel implements ChurnScorer {
  private current: { version: number; parameters: ChurnModelParameters } | undefined;

  constructor(private readonly log: Logger) {}

  get version(): number | null {
    return this.current?.version ?? null;
  }

  /** Null until a model is trained (or loaded). */
  score(features: ChurnFeatures): number | null {
    return this.current ? churnProbability(this.current.parameters, features) : null;
  }

  /** Adopts a version unless a newer one is already in use; false for parameters it cannot read. */
  use(version: number, parameters: unknown): boolean {
    if (this.current && this.current.version >= version) return true;
    const parsed = churnModelParametersSchema.safeParse(parameters);
    if (!parsed.success) {
      this.log.error(
        { version, issues: parsed.error.issues },
        'churn model version has unreadable parameters; keeping the one in use',
      );
      return false;
    }
    this.current = { version, parameters: parsed.data };
    return true;
  }

  /** Loads the newest stored version if it is newer than the one in use. */
  async refresh(sql: Sql): Promise<void> {
    const latest = await currentModelVersion(sql);
    if (latest && latest.version !== this.current?.version) this.use(latest.version, latest.parameters);
  }
}
