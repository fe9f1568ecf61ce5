import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from './db/database.ts';
import type { Logger } from './logger.ts';
import type { AppendSignal } from './store/append-signal.ts';

/** The longest timer Node keeps (a pass's listener is dropped at its end long before). */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * A due loop's safety poll on `db`: on PostgreSQL 30 s, for other processes' work and a lost
 * notification; embedded, every change is this process's own (its appends wake the loops and
 * what falls due by the clock is known), so 5 minutes, and an idle platform sleeps.
 */
export const safetyPollMs = (db: Pick<Database, 'kind'>): number => (db.kind === 'pglite' ? 300_000 : 30_000);

export interface DueLoopOptions {
  name: string;
  /** Does what is due; resolves to the milliseconds until the next thing it knows of falls due (null: nothing). */
  run: () => Promise<number | null>;
  /** Something new may be due after an append to the log (a subscription created, a charge recorded). */
  appended: AppendSignal;
  /** Runs are never closer than this (under load it is the period). */
  minGapMs: number;
  /** Nor further apart than this: a safety poll for work that came without an append. */
  maxSleepMs: number;
  log: Logger;
}

/**
 * Periodic work that sleeps while there is none: it runs again when what it knows of falls due,
 * when an append wakes it, or after `maxSleepMs`, and never more often than every `minGapMs`.
 * A failed run is tried again after `minGapMs`. Returns how to stop it (after the run in hand).
 */
export function startDueLoop(options: DueLoopOptions): () => Promise<void> {
  const stop = new AbortController();
  const { signal } = stop;
  const loop = (async () => {
    while (!signal.aborted) {
      // Listening from before the run: an append during the run or the gap still wakes the next sleep.
      const pass = new AbortController();
      const passSignal = AbortSignal.any([signal, pass.signal]);
      const appended = options.appended.wait(MAX_TIMER_MS, passSignal);
      let untilDue: number | null;
      try {
        untilDue = await options.run();
      } catch (error) {
        options.log.error({ err: error }, `${options.name} failed; retrying`);
        untilDue = 0;
      }
      await sleep(options.minGapMs, undefined, { signal }).catch(() => {});
      const rest = Math.min(options.maxSleepMs, untilDue ?? Infinity) - options.minGapMs;
      if (rest > 0 && !signal.aborted)
        await Promise.race([appended, sleep(rest, undefined, { signal: passSignal }).catch(() => {})]);
      pass.abort();
    }
  })();
  return async () => {
    stop.abort();
    await loop;
  };
}
