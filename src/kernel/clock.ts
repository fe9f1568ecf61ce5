/** The one source of time. Nothing else calls `Date.now()` or `new Date()` for business time. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** The test clock only moves forward (HTTP 400). */
export class ClockRewindError extends RangeError {
  override readonly name = 'ClockRewindError';
}

export interface TestClockState {
  /** How far ahead of the wall clock it runs (when not frozen). */
  offsetMs: number;
  /** The instant it stands still at, or null when it follows the wall clock. */
  frozenAt: number | null;
}

/**
 * A clock like Stripe's test clocks: it follows the wall clock plus an offset that advances add
 * to, so renewals, dunning and revenue recognition can be exercised in seconds while time still
 * passes between two requests. Frozen, it stands still until advanced or unfrozen (for tests).
 */
export class TestClock implements Clock {
  private offsetMs: number;
  private frozenAt: number | null;
  private readonly wall: () => number;

  constructor(start?: Date, options: { frozen?: boolean; wall?: () => number } = {}) {
    this.wall = options.wall ?? Date.now;
    const wallNow = this.wall();
    // One reading of the wall: a tick between two would freeze the clock a millisecond past its start.
    this.offsetMs = start ? start.getTime() - wallNow : 0;
    this.frozenAt = options.frozen ? wallNow + this.offsetMs : null;
  }

  now(): Date {
    return new Date(this.frozenAt ?? this.wall() + this.offsetMs);
  }

  get frozen(): boolean {
    return this.frozenAt !== null;
  }

  /** Milliseconds ahead of the wall clock now. */
  get offset(): number {
    return this.now().getTime() - this.wall();
  }

  freeze(): void {
    this.frozenAt ??= this.now().getTime();
  }

  /** Time resumes from where it stood. */
  unfreeze(): void {
    if (this.frozenAt === null) return;
    this.offsetMs = this.frozenAt - this.wall();
    this.frozenAt = null;
  }

  advanceTo(target: Date): void {
    const now = this.now().getTime();
    if (target.getTime() < now)
      throw new ClockRewindError(
        `the test clock is at ${new Date(now).toISOString()} and cannot go back to ${target.toISOString()}`,
      );
    if (this.frozenAt !== null) this.frozenAt = target.getTime();
    else this.offsetMs += target.getTime() - now;
  }

  advanceBy(milliseconds: number): void {
    this.advanceTo(new Date(this.now().getTime() + milliseconds));
  }

  state(): TestClockState {
    return { offsetMs: this.offsetMs, frozenAt: this.frozenAt };
  }

  /** Back to a saved state, never earlier than the time it shows now. */
  restore(saved: TestClockState): void {
    const now = this.now().getTime();
    if (saved.frozenAt !== null) this.frozenAt = Math.max(saved.frozenAt, now);
    else this.offsetMs = Math.max(saved.offsetMs, this.offsetMs);
  }
}
