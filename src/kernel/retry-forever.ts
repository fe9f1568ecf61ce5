import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from './logger.ts';

/**
 * Runs `attempt` until it succeeds, with a log line per failure and exponential backoff: an
 * unreachable dependency at start is waited for, not a crash loop.
 */
export async function retryForever<T>(
  what: string,
  attempt: () => Promise<T>,
  log: Logger,
  signal?: AbortSignal,
): Promise<T> {
  for (let failures = 1; ; failures++) {
    try {
      return await attempt();
    } catch (error) {
      if (signal?.aborted) throw error;
      const delay = Math.min(30_000, 500 * 2 ** (failures - 1));
      log.error({ attempt: failures, retryInMs: delay, reason: (error as Error).message }, `${what} failed; retrying`);
      await sleep(delay, undefined, { signal }).catch(() => {});
      if (signal?.aborted) throw error;
    }
  }
}
