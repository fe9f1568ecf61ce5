import type { Subscription } from '../kernel/bus/bus.ts';
import { consumerLag, projectionLagEvents, projectionLagSeconds } from '../kernel/metrics.ts';
import type { AppendSignal } from '../kernel/store/append-signal.ts';
import type { View } from './views.ts';

/** A sample is taken at least this often, even when nothing says the lag could have changed. */
const RESAMPLE_IDLE_MS = 300_000;

/**
 * Samples consumer and projection lag in the background, so `/metrics` never waits on Kafka or a
 * count. Lag only grows with an append: after a sample that found none, the counts are skipped
 * until something is appended (an idle platform sleeps), or `RESAMPLE_IDLE_MS` has passed (a
 * commit notification missed, a Kafka relay publishing later). A follower of the log that waits
 * having read everything its process has seen (`caughtUp`) is at zero without a count.
 */
export function sampleLag(
  subscriptions: readonly Subscription[],
  views: readonly View[],
  ready: () => boolean,
  appended: AppendSignal,
  everyMs = 30_000,
): () => void {
  let settled: { appends: number; at: number } | undefined;
  const sample = async () => {
    const now = performance.now(); // elapsed time, not business time
    if (settled && settled.appends === appended.count && now - settled.at < RESAMPLE_IDLE_MS) return;
    const appends = appended.count;
    const lags = await Promise.all([
      ...subscriptions.map((subscription) => {
        if (!subscription.caughtUp?.()) return subscription.lag().catch(() => null);
        consumerLag.set({ consumer: subscription.consumer }, 0);
        return 0;
      }),
      ...(ready()
        ? views.map((view) => {
            const { runner } = view;
            if (!runner.caughtUp)
              return runner.lag().then(
                (lag) => lag.events,
                () => null,
              );
            projectionLagEvents.set({ projection: runner.name }, 0);
            projectionLagSeconds.set({ projection: runner.name }, 0);
            return 0;
          })
        : [null]),
    ]);
    settled = lags.every((lag) => lag === 0) ? { appends, at: now } : undefined;
  };
  const timer = setInterval(() => void sample(), everyMs).unref();
  return () => clearInterval(timer);
}
