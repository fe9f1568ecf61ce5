import type { Clock } from '../../kernel/clock.ts';
import { ClockDrivenJob } from '../../kernel/clock-driven-job.ts';
import type { Database } from '../../kernel/db/database.ts';
import type { Logger } from '../../kernel/logger.ts';
import { recogniseDue } from './ledger/revenue-schedules.ts';

/**
 * Revenue recognition driven by the platform clock, not by events: every interval it posts the
 * days of service that have ended by `clock.now()`, and the ledger's API catches up the same way
 * before it answers. With the test clock, `POST /admin/clock/advance` moves time at once; the
 * next run (or the next ledger query) then posts each day that passed, dated the day it ended,
 * so balances `asOf` any past instant come out as if recognition had run every day.
 * (Other processes' runs skip the schedules this one holds.)
 */
export const revenueRecognizer = (deps: {
  db: Database;
  clock: Clock;
  log: Logger;
  intervalMs: number;
}): ClockDrivenJob =>
  new ClockDrivenJob({
    name: 'revenue recognition',
    intervalMs: deps.intervalMs,
    log: deps.log,
    run: () => {
      const now = deps.clock.now();
      return recogniseDue(deps.db, now, now);
    },
  });
