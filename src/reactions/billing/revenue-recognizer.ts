import type { Clock } from '../../kernel/clock.ts';
import type { Database } from '../../kernel/db/database.ts';
import type { Logger } from '../../kernel/logger.ts';
import { recogniseDue } from './ledger/revenue-schedules.ts';

/**
 * Revenue recognition driven by the platform clock, not by events: every interval it posts the
 * days of service that have ended by `clock.now()`, and the ledger's API catches up the same way
 * before it answers. With the test clock, `POST /admin/clock/advance` moves time at once; the
 * next run (or the next ledger query) then posts each day that passed, dated the day it ended,
 * so balances `asOf` any past instant come out as if recognition had run every day.
 */
export class RevenueRecognizer {
  private current: Promise<number> | undefined;
  private queued: Promise<number> | undefined;

  constructor(private readonly deps: { db: Database; clock: Clock; log: Logger; intervalMs: number }) {}

  /**
   * Recognises what has ended by now; resolves to the number of days posted. One run at a time
   * in this process (other processes' runs skip the schedules this one holds): a call made during
   * a run gets the next one, which reads the clock when it starts, and shares it with the calls
   * made meanwhile.
   */
  catchUp(): Promise<number> {
    if (!this.current) return this.run();
    this.queued ??= this.current
      .catch(() => 0)
      .then(() => {
        this.queued = undefined;
        return this.run();
      });
    return this.queued;
  }

  private run(): Promise<number> {
    const now = this.deps.clock.now();
    const run: Promise<number> = recogniseDue(this.deps.db, now, now).finally(() => {
      if (this.current === run) this.current = undefined;
    });
    this.current = run;
    return run;
  }

  /** The periodic run; returns how to stop it (waiting for a run in progress). */
  start(): () => Promise<void> {
    const timer = setInterval(() => {
      this.catchUp().catch((error: unknown) => this.deps.log.error({ err: error }, 'revenue recognition failed; retrying at the next run'));
    }, this.deps.intervalMs);
    timer.unref();
    return async () => {
      clearInterval(timer);
      await Promise.allSettled([this.current, this.queued]);
    };
  }
}
