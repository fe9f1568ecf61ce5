import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { startDueLoop } from './due-loop.ts';
import { silentLogger } from './logger.ts';
import { AppendSignal } from './store/append-signal.ts';

/** Waits (up to 5 s, for a loaded machine) until `done`. */
const until = async (done: () => boolean) => {
  const deadline = performance.now() + 5_000;
  while (!done() && performance.now() < deadline) await sleep(5);
  expect(done()).toBe(true);
};

describe('a due loop', () => {
  const loop = (untilDue: () => number | null, maxSleepMs = 400) => {
    const appended = new AppendSignal();
    const runs: number[] = [];
    const stop = startDueLoop({
      name: 'test',
      run: async () => (runs.push(performance.now()), untilDue()),
      appended,
      minGapMs: 20,
      maxSleepMs,
      log: silentLogger,
    });
    return { runs, stop, appended };
  };

  it('sleeps while nothing is due, and an append wakes it', async () => {
    const { runs, stop, appended } = loop(() => null, 60_000);
    await sleep(150);
    expect(runs).toHaveLength(1);
    appended.notify();
    await until(() => runs.length === 2);
    await stop();
  });

  it('is woken by an append made while it ran or waited out the minimum gap', async () => {
    let first = true;
    const handle = loop(() => {
      // Right after the first run, before the loop starts to sleep.
      if (first) setImmediate(() => handle.appended.notify());
      first = false;
      return null;
    }, 60_000);
    await until(() => handle.runs.length === 2);
    await handle.stop();
  });

  it('runs again when what it knows of falls due, never closer than the minimum gap', async () => {
    const { runs, stop } = loop(() => 0);
    await sleep(150);
    await stop();
    const gaps = runs.slice(1).map((at, i) => at - runs[i]!);
    expect(runs.length).toBeGreaterThan(2);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(19);
  });

  it('polls after the longest sleep even without an append', async () => {
    const { runs, stop } = loop(() => 10_000);
    await until(() => runs.length === 2);
    await stop();
    expect(runs[1]! - runs[0]!).toBeGreaterThanOrEqual(399);
  });

  it('retries a failed run after the minimum gap, and runs no more once stopped', async () => {
    let calls = 0;
    const { stop } = loop(() => {
      calls++;
      throw new Error('down');
    });
    await until(() => calls >= 3);
    await stop();
    const after = calls;
    await sleep(50);
    expect(calls).toBe(after);
  });
});
