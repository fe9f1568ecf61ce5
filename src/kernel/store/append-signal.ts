import { EventEmitter } from 'node:events';

/**
 * Wake-up for readers of the log after an append: fired in this process by the store, and by the
 * database's notification of a commit (PostgreSQL `LISTEN/NOTIFY`, any process), so readers need
 * not poll.
 */
export class AppendSignal {
  private readonly emitter = new EventEmitter().setMaxListeners(0);
  private notified = 0;

  notify(): void {
    this.notified += 1;
    this.emitter.emit('appended');
  }

  /** Calls `listener` at every append signalled from now on; returns how to stop. */
  on(listener: () => void): () => void {
    this.emitter.on('appended', listener);
    return () => this.emitter.off('appended', listener);
  }

  /** Appends signalled so far: two equal counts mean nothing was appended in between. */
  get count(): number {
    return this.notified;
  }

  /** Resolves at the next append (true) or after `timeoutMs` (false), whichever is first. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (woken: boolean) => () => {
        clearTimeout(timer);
        this.emitter.off('appended', onAppend);
        signal?.removeEventListener('abort', onAbort);
        resolve(woken);
      };
      const onAppend = done(true);
      const onAbort = done(false);
      const timer = setTimeout(onAbort, timeoutMs);
      this.emitter.once('appended', onAppend);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/**
 * How a follower of the log waits after a read found nothing: until an append wakes it, or a
 * safety poll that grows from `minMs` to `maxMs` while nothing happens. An append seen before
 * its transaction commits (or a reader held back by another transaction in flight) is read
 * shortly after: the next wait starts short again.
 */
export class IdleBackoff {
  private delay: number;

  constructor(
    private readonly appended: AppendSignal,
    private readonly minMs = 20,
    private readonly maxMs = 30_000,
  ) {
    this.delay = minMs;
  }

  /** A read found events: the next wait is short. */
  reset(): void {
    this.delay = this.minMs;
  }

  async wait(signal?: AbortSignal): Promise<void> {
    const woken = await this.appended.wait(this.delay, signal);
    this.delay = woken ? this.minMs : Math.min(this.maxMs, this.delay * 2);
  }
}
