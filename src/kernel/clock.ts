/** The one source of time. Nothing else calls `Date.now()` or `new Date()` for business time. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** The test clock only moves forward (HTTP 400). */
export class ClockRewindError extends RangeError {
  override readonly name = 'ClockRewindError';
}

/**
 * A clock that only moves when told to (like Stripe's test clocks): renewals, dunning and
 * revenue recognition can be exercised in seconds.
 */
export class TestClock implements Clock {
  private current: number;

  constructor(start: Date = new Date()) {
    this.current = start.getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  advanceTo(target: Date): void {
    if (target.getTime() < this.current) throw new ClockRewindError(`the test clock is at ${new Date(this.current).toISOString()} and cannot go back to ${target.toISOString()}`);
    this.current = target.getTime();
  }

  advanceBy(milliseconds: number): void {
    this.advanceTo(new Date(this.current + milliseconds));
  }
}
