import { EventEmitter } from 'node:events';

/** In-process wake-up for log readers after an append, so they need not wait for their next poll. */
export class AppendSignal {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  notify(): void {
    this.emitter.emit('appended');
  }

  /** Resolves at the next append or after `timeoutMs`, whichever is first. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.emitter.off('appended', done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.emitter.once('appended', done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
