import type { AppendSignal } from './append-signal.ts';

/** The longest timer Node keeps. */
const MAX_TIMER_MS = 2_147_483_647;

export interface LogWatchWait {
  /** The follower wants a change of the log that no signal announced seen within this (its safety poll). */
  maxMs: number;
  /** Resolves (false) after this even if nothing moved: the follower has something of its own to do. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface Waiter {
  maxMs: number;
  done: (moved: boolean) => void;
}

/**
 * Where the followers of a store's log in this process (embedded bus groups, projections) wait
 * after a read found nothing, with one safety poll for all of them instead of one each.
 *
 * `count` moves at every append this process signals (its own commits, the database's commit
 * notifications) and whenever the poll finds the readable head of the log (`readHead`: the last
 * event a reader can see) changed since its previous look. A follower takes `count` before its
 * read and waits only while it is unchanged, so nothing that became readable after the read began
 * can be slept through: either the signal or the poll that first saw it moved `count` after the
 * read began, or it was readable before the poll ended and so before the read began.
 *
 * The poll runs only while someone waits: first `minMs` after the last append (an append seen
 * before its transaction commits, a reader held back by another transaction in flight), then
 * doubling while the head stays put, never longer apart than the smallest `maxMs` of those
 * waiting. A missed notification is so seen within that `maxMs` (and one statement).
 */
export class LogWatch {
  private moved = 0;
  private readonly waiters = new Set<Waiter>();
  /** The head the last poll saw (undefined: none yet, the first poll always counts as a move). */
  private head: string | undefined;
  private delay: number;
  private timer: NodeJS.Timeout | undefined;
  private dueAt = Infinity;
  private polling = false;

  constructor(
    appended: AppendSignal,
    private readonly readHead: () => Promise<string>,
    private readonly minMs = 20,
  ) {
    this.delay = minMs;
    appended.on(() => {
      this.delay = this.minMs;
      this.move();
    });
  }

  /** Moves of the log seen so far: take it before a read, and wait with it after. */
  get count(): number {
    return this.moved;
  }

  /**
   * Resolves once the log may have moved since `count` was `since` (true), or after `timeoutMs`
   * or at the abort (false). Resolves at once when it already has.
   */
  wait(since: number, options: LogWatchWait): Promise<boolean> {
    if (this.moved !== since) return Promise.resolve(true);
    const { signal, timeoutMs } = options;
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timeout: NodeJS.Timeout | undefined;
      const onAbort = () => waiter.done(false);
      const waiter: Waiter = {
        maxMs: Math.max(1, options.maxMs),
        done: (moved) => {
          if (!this.waiters.delete(waiter)) return;
          clearTimeout(timeout);
          signal?.removeEventListener('abort', onAbort);
          if (this.waiters.size === 0) this.unschedule();
          resolve(moved);
        },
      };
      this.waiters.add(waiter);
      if (timeoutMs !== undefined) timeout = setTimeout(() => waiter.done(false), Math.max(0, timeoutMs));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.schedule(performance.now() + Math.min(this.delay, waiter.maxMs));
    });
  }

  private move(): void {
    this.moved += 1;
    for (const waiter of [...this.waiters]) waiter.done(true);
  }

  /** The next poll by `at` at the latest (a poll in flight schedules the next one when it ends). */
  private schedule(at: number): void {
    if (this.polling || at >= this.dueAt) return;
    clearTimeout(this.timer);
    this.dueAt = at;
    this.timer = setTimeout(() => void this.poll(), Math.max(0, at - performance.now()));
  }

  private unschedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.dueAt = Infinity;
  }

  private async poll(): Promise<void> {
    this.unschedule();
    this.polling = true;
    let head: string | undefined;
    let failed = false;
    try {
      head = await this.readHead();
    } catch {
      failed = true; // the followers' own reads fail too: they say so and retry (below)
    } finally {
      this.polling = false;
    }
    if (failed) {
      this.delay = Math.min(MAX_TIMER_MS, this.delay * 2);
      this.move();
    } else if (head !== this.head) {
      // Also with nobody waiting: a follower reading now may have begun before the event was readable.
      // (The first look has nothing to compare with: it counts as a move, to be safe.)
      this.head = head;
      this.delay = this.minMs;
      this.move();
    } else {
      this.delay = Math.min(MAX_TIMER_MS, this.delay * 2);
    }
    if (this.waiters.size === 0) return;
    const maxMs = Math.min(...[...this.waiters].map((waiter) => waiter.maxMs));
    this.schedule(performance.now() + Math.min(this.delay, maxMs));
  }
}
