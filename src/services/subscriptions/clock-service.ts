import { ClockRewindError, type TestClock } from '../../kernel/clock.ts';
import type { Database } from '../../kernel/db/database.ts';
import type { RenewalScheduler } from './renewal-scheduler.ts';

/**
 * The test clock (embedded and test mode): kept in the database so it survives a restart, and
 * moved only forward, running every job that falls due on the way, in order, before returning.
 */
export class ClockService {
  private advancing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly deps: { db: Database; clock: TestClock; scheduler: RenewalScheduler },
  ) {}

  /** Sets the clock to its saved time (or saves the current one). */
  async restore(): Promise<void> {
    const { rows } = await this.deps.db.query<{ now: Date }>('select now from test_clock where id = 1');
    if (rows[0] && rows[0].now > this.deps.clock.now()) this.deps.clock.advanceTo(rows[0].now);
    await this.save();
  }

  /** One advance at a time: a second waits for the first. */
  advanceTo(target: Date): Promise<{ now: Date; jobsRun: number }> {
    const run = this.advancing.then(() => this.advance(target));
    this.advancing = run.catch(() => {});
    return run;
  }

  private async advance(target: Date): Promise<{ now: Date; jobsRun: number }> {
    const { db, clock, scheduler } = this.deps;
    if (target < clock.now()) throw new ClockRewindError(`the test clock is at ${clock.now().toISOString()} and cannot go back to ${target.toISOString()}`);
    let jobsRun = 0;
    for (;;) {
      const { rows } = await db.query<{ due: Date | null }>('select min(due_at) as due from subscription_timers where due_at <= $1', [target]);
      const due = rows[0]?.due;
      if (!due) break;
      if (due > clock.now()) clock.advanceTo(due);
      const ran = await scheduler.runDue(clock.now());
      jobsRun += ran;
      if (ran === 0) break;
    }
    clock.advanceTo(target);
    await this.save();
    return { now: clock.now(), jobsRun };
  }

  private async save(): Promise<void> {
    await this.deps.db.query(
      'insert into test_clock (id, now) values (1, $1) on conflict (id) do update set now = excluded.now',
      [this.deps.clock.now()],
    );
  }
}
