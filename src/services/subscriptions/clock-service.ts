import { randomUUID } from 'node:crypto';
import { ClockRewindError, type TestClock } from '../../kernel/clock.ts';
import type { Database } from '../../kernel/db/database.ts';
import type { RenewalScheduler } from './renewal-scheduler.ts';

/** A second advance while one runs (HTTP 409). */
export class ClockBusyError extends Error {
  override readonly name = 'ClockBusyError';

  constructor(readonly advanceId: string) {
    super(`the test clock is already advancing (advance ${advanceId}); wait for it to finish`);
  }
}

/** An advance of the test clock: the jobs run and left on the way to its target. */
export interface ClockAdvance {
  id: string;
  status: 'running' | 'completed' | 'failed';
  target: Date;
  done: number;
  left: number;
  now: Date;
  error?: string;
  /** Settles when the advance finished, whatever its outcome. */
  finished: Promise<void>;
}

/** How many finished advances are remembered for GET /admin/clock/advances/{id}. */
const KEPT_ADVANCES = 100;

/**
 * The test clock (embedded and test mode): wall clock plus an offset, kept in the database so it
 * survives a restart. An advance runs every job that falls due on the way, in order, one advance
 * at a time; between advances, jobs due by the moving clock run on the scheduler's tick.
 */
export class ClockService {
  private readonly advances = new Map<string, ClockAdvance>();
  private running: ClockAdvance | undefined;
  /** Serializes the scheduler's tick and the advances: one runner of due jobs at a time. */
  private jobs: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: { db: Database; clock: TestClock; scheduler: RenewalScheduler }) {}

  get clock(): TestClock {
    return this.deps.clock;
  }

  /** The advance in progress, if any. */
  get advancing(): string | null {
    return this.running?.id ?? null;
  }

  advance(id: string): ClockAdvance | undefined {
    return this.advances.get(id);
  }

  /** Sets the clock to its saved state (never back); saves it when there was none, or it moved. */
  async restore(): Promise<void> {
    const { rows } = await this.deps.db.query<{ now: Date; offset_ms: string | number; frozen_at: Date | null }>(
      'select now, offset_ms, frozen_at from test_clock where id = 1',
    );
    const row = rows[0];
    if (!row) return this.save();
    const clock = this.deps.clock;
    clock.restore({ offsetMs: Number(row.offset_ms), frozenAt: row.frozen_at?.getTime() ?? null });
    // A clock saved before offsets existed: never earlier than it showed.
    if (!row.frozen_at && row.now > clock.now()) {
      clock.advanceTo(row.now);
      await this.save();
    }
  }

  async freeze(): Promise<void> {
    this.deps.clock.freeze();
    await this.save();
  }

  async unfreeze(): Promise<void> {
    this.deps.clock.unfreeze();
    await this.save();
  }

  /** Runs the jobs due by the clock now, unless an advance is running them. */
  tick(): Promise<number> {
    if (this.running) return Promise.resolve(0);
    return this.serialized(() => this.deps.scheduler.runDue(this.deps.clock.now()));
  }

  /** Starts moving the clock to `target`; follow it with `advance(id)` or await `finished`. */
  startAdvance(target: Date): ClockAdvance {
    if (this.running) throw new ClockBusyError(this.running.id);
    const now = this.deps.clock.now();
    if (target < now)
      throw new ClockRewindError(
        `the test clock is at ${now.toISOString()} and cannot go back to ${target.toISOString()}`,
      );
    const advance: ClockAdvance = {
      id: randomUUID(),
      status: 'running',
      target,
      done: 0,
      left: 0,
      now,
      finished: Promise.resolve(),
    };
    this.running = advance;
    this.remember(advance);
    advance.finished = this.serialized(() => this.run(advance))
      .then(
        () => void (advance.status = 'completed'),
        (error: unknown) => {
          advance.status = 'failed';
          advance.error = error instanceof Error ? error.message : String(error);
        },
      )
      .finally(() => {
        advance.now = this.deps.clock.now();
        this.running = undefined;
      });
    return advance;
  }

  private async run(advance: ClockAdvance): Promise<void> {
    const { db, clock, scheduler } = this.deps;
    for (;;) {
      const { rows } = await db.query<{ due: Date | null; left: string | number }>(
        'select min(due_at) as due, count(*) as left from subscription_timers where due_at <= $1',
        [advance.target],
      );
      advance.left = Number(rows[0]?.left ?? 0);
      const due = rows[0]?.due;
      if (!due) break;
      if (due > clock.now()) {
        clock.advanceTo(due);
        // Saved before the jobs run: a process killed among them restarts at the time they ran, not before it.
        await this.save();
      }
      advance.now = clock.now();
      const ran = await scheduler.runDue(clock.now());
      advance.done += ran;
      if (ran === 0) break;
      await this.save();
    }
    if (advance.target > clock.now()) clock.advanceTo(advance.target);
    advance.left = 0;
    await this.save();
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.jobs.then(work);
    this.jobs = run.catch(() => {});
    return run;
  }

  private remember(advance: ClockAdvance): void {
    this.advances.set(advance.id, advance);
    for (const id of this.advances.keys()) {
      if (this.advances.size <= KEPT_ADVANCES) break;
      if (this.advances.get(id)?.status !== 'running') this.advances.delete(id);
    }
  }

  private async save(): Promise<void> {
    const { offsetMs, frozenAt } = this.deps.clock.state();
    await this.deps.db.query(
      `insert into test_clock (id, now, offset_ms, frozen_at) values (1, $1, $2, $3)
       on conflict (id) do update set now = excluded.now, offset_ms = excluded.offset_ms, frozen_at = excluded.frozen_at`,
      [this.deps.clock.now(), Math.round(offsetMs), frozenAt === null ? null : new Date(frozenAt)],
    );
  }
}
