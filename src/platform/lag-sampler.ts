import type { Subscription } from '../kernel/bus/bus.ts';
import type { View } from './views.ts';

/** Samples consumer and projection lag in the background, so `/metrics` never waits on Kafka or a count. */
export function sampleLag(
  subscriptions: readonly Subscription[],
  views: readonly View[],
  ready: () => boolean,
  everyMs = 30_000,
): () => void {
  const timer = setInterval(() => {
    for (const subscription of subscriptions) subscription.lag().catch(() => {});
    if (ready()) for (const view of views) view.runner.lag().catch(() => {});
  }, everyMs).unref();
  return () => clearInterval(timer);
}
