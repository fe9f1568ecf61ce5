import { uuidv7 } from '../../kernel/ids.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Database } from '../../kernel/db/database.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { SagaOrchestrator } from '../../kernel/saga/saga-orchestrator.ts';
import {
  dueRenewal,
  RENEWAL_WORKFLOW,
  renewalWorkflow,
  renewalWorkflowId,
  type RenewalState,
  type RenewalWorkflowDeps,
} from './renewal-workflow.ts';
import { claimDueTimers, postponeTimer, releaseTimer, type ClaimedTimer } from './timer-claims.ts';

/** How long a claimed timer stays another scheduler's, by the platform clock: far longer than a batch takes. */
const CLAIM_LEASE_MS = 5 * 60_000;

/** Runs `work` on every item, at most `limit` at a time. */
async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export { nextTimer, reschedule, scheduleNew } from './subscription-timers.ts';

export interface RenewalSchedulerDeps extends RenewalWorkflowDeps {
  db: Database;
  clock: Clock;
  log: Logger;
  /** Runs each renewal as a durable workflow (the scheduler registers its definition). */
  sagas: SagaOrchestrator;
  /** Timers claimed per batch (100) and renewals of a batch run at once (4). */
  batchSize?: number;
  concurrency?: number;
}

/**
 * Starts a renewal workflow for each timer that falls due: it charges renewals when periods end,
 * retries declined ones on the dunning schedule, cancels when it is exhausted, and ends
 * subscriptions cancelled at period end. Every charge's idempotency key is
 * `subscriptionId:periodIndex` (`:attempt` for retries), so a job that runs twice charges once.
 */
export class RenewalScheduler {
  constructor(private readonly deps: RenewalSchedulerDeps) {
    deps.sagas.register(renewalWorkflow(deps));
  }

  private readonly owner = `scheduler:${uuidv7()}`;

  /**
   * Runs every job due at or before `at` that no other scheduler has claimed, earliest first, in
   * batches claimed with FOR UPDATE SKIP LOCKED; returns how many ran here.
   */
  async runDue(at: Date): Promise<number> {
    const { db, clock } = this.deps;
    const batchSize = this.deps.batchSize ?? 100;
    let ran = 0;
    const seen = new Set<string>();
    for (;;) {
      const claimed = await claimDueTimers(db, {
        at,
        now: clock.now(),
        owner: this.owner,
        leaseMs: CLAIM_LEASE_MS,
        limit: batchSize,
      });
      if (claimed.length === 0) return ran;
      await forEachConcurrently(claimed, this.deps.concurrency ?? 4, async (job) => {
        const attemptKey = `${job.subscriptionId}@${job.dueAt.toISOString()}`;
        try {
          // The job did not move its timer the first time (it failed): look again later rather than loop.
          if (seen.has(attemptKey))
            return void (await postponeTimer(db, job.subscriptionId, new Date(at.getTime() + 3600_000)));
          seen.add(attemptKey);
          ran++;
          await this.process(job);
        } catch (error) {
          this.deps.log.error(
            { err: error, subscriptionId: job.subscriptionId },
            'renewal job failed; retrying in an hour',
          );
        } finally {
          await releaseTimer(db, job.subscriptionId, this.owner);
        }
      });
    }
  }

  /**
   * The renewal workflow of this timer's due time, with what fell due as its input; joined when
   * it exists (a claim retaken after a crash): it goes on with what it decided then.
   */
  private async process(job: ClaimedTimer): Promise<void> {
    const id = renewalWorkflowId(job.subscriptionId, job.dueAt);
    const due = await dueRenewal(this.deps, job.subscriptionId, id);
    if (!due) return;
    const renewal = await this.deps.sagas.start<RenewalState>(RENEWAL_WORKFLOW, id, due);
    if (renewal.status !== 'completed') throw new Error(`renewal workflow ${id} ended ${renewal.status}`);
  }
}
