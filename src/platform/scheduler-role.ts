import { reactionModules } from '../reactions/index.ts';
import type { PlatformCore } from './core.ts';
import { whileHolding } from '../kernel/db/try-lock.ts';
import { safetyPollMs, startDueLoop } from '../kernel/due-loop.ts';
import { msUntilNextTimer } from '../services/subscriptions/timer-claims.ts';
import type { RunningRole } from './role.ts';

/** Renewal runs are at least this far apart (while nothing falls due, the safety poll's apart). */
const RENEWALS_MIN_GAP_MS = 1_000;

/**
 * Work that falls due by the clock: renewals, retries and ends of subscriptions, and the
 * reactions' periodic jobs (revenue recognition, compliance checks, churn retraining). Several
 * scheduler processes share a month-end run, each claiming its own batches of due timers
 * (`SKIP LOCKED`; a renewal's workflow id and charge key keep a retaken one from charging
 * twice); the test clock's advances take turns under one lock. Between runs the scheduler sleeps
 * until the next timer falls due or an append (a new or changed subscription) may have moved one.
 */
export function startScheduler(core: PlatformCore): RunningRole {
  const { renewals, clock, clockService, log, db, store } = core;
  const stopRenewals = startDueLoop({
    name: 'renewal scheduler',
    // The test clock moves too: its advances run what falls due at once, and this loop the rest.
    run: async () => {
      if (!clockService) {
        await renewals.runDue(clock.now());
        return msUntilNextTimer(db, clock.now());
      }
      const ran = await whileHolding(db, 'tributary.renewals', () => clockService.tick());
      // Another process holds the run: look again soon, in case it stops.
      return ran ? msUntilNextTimer(db, clock.now()) : RENEWALS_MIN_GAP_MS;
    },
    appended: store.appended,
    minGapMs: RENEWALS_MIN_GAP_MS,
    maxSleepMs: safetyPollMs(db),
    log,
  });
  const stopJobs = reactionModules.flatMap((module) => (module.start ? [module.start(core.reactionDeps)] : []));
  return {
    role: 'scheduler',
    async stop() {
      await stopRenewals();
      await Promise.all(stopJobs.map((stop) => stop()));
    },
  };
}
