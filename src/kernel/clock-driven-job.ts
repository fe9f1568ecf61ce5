import type { Logger } from './logger.ts';

/**
 * Work that falls due by the platform clock rather than by events (revenue recognition,
 * compliance checks): run every interval, and on demand before an API answers. One run at a time
 * in this process; a call made during a run gets the next one, which reads the clock when it
 * starts, and shares it with the calls made meanwhile.
 */
export class ClockDrivenJob {
  private current: Promise<number> | undefined;
  private queued: Promise<number> | undefined;

  constructor(
    private readonly options: { name: string; run: () => Promise<number>; intervalMs: number; log: Logger },
  ) {}

  /** Runs what is due by now; resolves to how much it did. */
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

  /** The periodic run; returns how to stop it (waiting for a run in progress). */
  start(): () => Promise<void> {
    const timer = setInterval(() => {
      this.catchUp().catch((error: unknown) =>
        this.options.log.error({ err: error }, `${this.options.name} failed; retrying at the next run`),
      );
    }, this.options.intervalMs);
    timer.unref();
    return async () => {
      clearInterval(timer);
      await Promise.allSettled([this.current, this.queued]);
    };
  }

  private run(): Promise<number> {
    const run: Promise<number> = this.options.run().finally(() => {
      if (this.current === run) this.current = undefined;
    });
    this.current = run;
    return run;
  }
}
