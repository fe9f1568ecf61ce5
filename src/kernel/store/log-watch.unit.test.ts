import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { AppendSignal } from './append-signal.ts';
import { LogWatch } from './log-watch.ts';

/** Waits (up to 5 s, for a loaded machine) until `done`. */
const until = async (done: () => boolean) => {
  const deadline = performance.now() + 5_000;
  while (!done() && performance.now() < deadline) await sleep(5);
  expect(done()).toBe(true);
};

describe('the log watch (one safety poll for the followers of a log)', () => {
  /** A watch over a log whose readable head the test moves by hand (a commit nobody announced). */
  const watched = () => {
    const appended = new AppendSignal();
    const log = { head: 0, reads: 0 };
    const watch = new LogWatch(appended, async () => {
      log.reads += 1;
      return String(log.head);
    });
    return { appended, log, watch };
  };

  /** The first look has nothing to compare with: it wakes everyone once. */
  const settled = async (watch: LogWatch) => {
    await watch.wait(watch.count, { maxMs: 10 });
  };

  it('wakes the waiters at an append signal, and a wait after it returns at once', async () => {
    const { appended, watch } = watched();
    const since = watch.count;
    const woken = watch.wait(since, { maxMs: 60_000 });
    appended.notify();
    expect(await woken).toBe(true);
    expect(await watch.wait(since, { maxMs: 60_000 })).toBe(true);
  });

  it('polls once for all of its waiters, and wakes them all when the head moved unannounced', async () => {
    const { log, watch } = watched();
    await settled(watch);
    const readsBefore = log.reads;
    const since = watch.count;
    const waits = Array.from({ length: 10 }, () => watch.wait(since, { maxMs: 50 }));
    await sleep(200);
    // Backing off from 20 ms, never more than 50 ms apart: a handful of looks, not ten per round.
    expect(log.reads - readsBefore).toBeGreaterThanOrEqual(2);
    expect(log.reads - readsBefore).toBeLessThanOrEqual(8);
    const moved = performance.now();
    log.head = 1;
    expect(await Promise.all(waits)).toEqual(Array(10).fill(true));
    expect(performance.now() - moved).toBeLessThan(1_000); // within maxMs (and a loaded machine's slack)
  });

  it('backs off while the head stays put, to the smallest maxMs of those waiting', async () => {
    const { log, watch } = watched();
    await settled(watch);
    const stop = new AbortController();
    const readsBefore = log.reads;
    void watch.wait(watch.count, { maxMs: 60_000, signal: stop.signal });
    await sleep(700);
    // 20, 40, 80, 160, 320 ms: five looks in 620 ms (not one every 20 ms).
    expect(log.reads - readsBefore).toBeGreaterThanOrEqual(3);
    expect(log.reads - readsBefore).toBeLessThanOrEqual(6);
    // A waiter with a short maxMs pulls the next look forward.
    const moved = performance.now();
    log.head = 2;
    expect(await watch.wait(watch.count, { maxMs: 30 })).toBe(true);
    expect(performance.now() - moved).toBeLessThan(1_000);
    stop.abort();
  });

  it('does not poll while nobody waits', async () => {
    const { log, watch } = watched();
    await settled(watch);
    const stop = new AbortController();
    const waiting = watch.wait(watch.count, { maxMs: 10, signal: stop.signal });
    await until(() => log.reads >= 3);
    stop.abort();
    expect(await waiting).toBe(false);
    const reads = log.reads;
    await sleep(100);
    expect(log.reads).toBeLessThanOrEqual(reads + 1); // a look in flight at the abort may end
  });

  it('counts a move the poll saw while nobody waited: a follower reading then does not sleep through it', async () => {
    const { log, watch } = watched();
    await settled(watch);
    const other = new AbortController();
    void watch.wait(watch.count, { maxMs: 10, signal: other.signal });
    const since = watch.count; // a follower starts a read
    log.head = 3; // the event commits after its read began: the read may not have seen it
    await until(() => watch.count !== since); // the poll sees it before the follower waits
    other.abort();
    expect(await watch.wait(since, { maxMs: 60_000 })).toBe(true);
  });

  it('ends a wait at its timeout, or at the abort, without a move', async () => {
    const { watch } = watched();
    await settled(watch);
    expect(await watch.wait(watch.count, { maxMs: 60_000, timeoutMs: 20 })).toBe(false);
    const stop = new AbortController();
    const waiting = watch.wait(watch.count, { maxMs: 60_000, signal: stop.signal });
    stop.abort();
    expect(await waiting).toBe(false);
    expect(await watch.wait(watch.count, { maxMs: 60_000, signal: stop.signal })).toBe(false);
  });

  it('wakes its waiters when a look fails: their own reads say what failed, and they retry', async () => {
    const appended = new AppendSignal();
    let failing = true;
    const watch = new LogWatch(appended, async () => {
      if (failing) throw new Error('unreachable');
      return '0';
    });
    expect(await watch.wait(watch.count, { maxMs: 20 })).toBe(true);
    failing = false;
    expect(await watch.wait(watch.count, { maxMs: 20 })).toBe(true); // the first good look counts as a move
  });
});
