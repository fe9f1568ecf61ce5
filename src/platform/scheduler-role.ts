import { reactionModules } from '../reactions/index.ts';
import type { PlatformCore } from './core.ts';
import { whileHolding } from '../kernel/db/try-lock.ts';
import type { RunningRole } from './role.ts';

const RENEWALS_EVERY_MS = 1_000;

/**
 * Work that falls due by the clock: renewals, retries and ends of subscriptions, and the
 * reactions' periodic jobs (revenue recognition, compliance checks, churn retraining). Several
 * scheduler processes take turns (one lock): a renewal is never run twice at once.
 */
export function startScheduler(core: PlatformCore): RunningRole {
  const { renewals, clock, clockService, log, db } = core;
  let running: Promise<unknown> | undefined;
  // The test clock moves too: its advances run what falls due at once, and its tick the rest.
  const timer = setInterval(() => {
    if (running) return;
    running = whileHolding(db, 'tributary.renewals', () =>
      clockService ? clockService.tick() : renewals.runDue(clock.now()),
    )
      .catch((error: unknown) => log.error({ err: error }, 'renewal scheduler failed'))
      .finally(() => (running = undefined));
  }, RENEWALS_EVERY_MS);
  const stopJobs = reactionModules.flatMap((module) => (module.start ? [module.start(core.reactionDeps)] : []));
  return {
    role: 'scheduler',
    async stop() {
      clearInterval(timer);
      await running;
      await Promise.all(stopJobs.map((stop) => stop()));
    },
  };
}
