export interface RetryPolicy {
  /** Attempts before a failing event is dead-lettered (the first try counts). */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 30_000 };

/** Exponential backoff with full jitter: spreads retries of many consumers apart. */
export const backoffDelay = (policy: RetryPolicy, failedAttempts: number, random: () => number = Math.random): number =>
  Math.round(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failedAttempts - 1)));
