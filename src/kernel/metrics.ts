import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The platform's Prometheus metrics, served at `/metrics`. */
export const registry = new Registry();

/** The longest timer Node keeps. */
const MAX_TIMER_MS = 2_147_483_647;
// prom-client's event-loop delay sampler would wake the process at every sample, idle or not: its
// timer is set never to fire, and its gauges are those of `loopDelay` below.
collectDefaultMetrics({ register: registry, prefix: 'tributary_', eventLoopMonitoringPrecision: MAX_TIMER_MS });
const LOOP_DELAY = ['', '_min', '_max', '_mean', '_stddev', '_p50', '_p90', '_p99'].map(
  (stat) => `tributary_nodejs_eventloop_lag${stat}_seconds`,
);
for (const name of LOOP_DELAY) registry.removeSingleMetric(name);

/** Sampling goes on this long after the last request or append. */
const LOOP_DELAY_IDLE_AFTER_MS = 10_000;

/**
 * The event-loop delay, sampled every 500 ms (not every 10 ms, prom-client's default) while the
 * platform works: from a request or an append (`wake`) until 10 s without either. Each sample
 * wakes the process: an idle platform is left asleep, with no delay to measure. While sampling, a
 * stall of half a second or more is always seen; a shorter one by chance, in proportion to its
 * length. The statistics are of the samples since the previous scrape (zero without any).
 */
class LoopDelay {
  private readonly histogram = monitorEventLoopDelay({ resolution: 500 });
  private lastWake = 0;
  private idleCheck: NodeJS.Timeout | undefined;

  constructor() {
    const [lag, ...stats] = LOOP_DELAY;
    const { histogram } = this;
    // Registered first: a scrape collects it before the statistics, which its collect sets.
    new Gauge({
      name: lag!,
      help: 'Lag of event loop in seconds.',
      registers: [registry],
      collect() {
        const start = performance.now();
        setImmediate(() => this.set((performance.now() - start) / 1000));
        const sampled = histogram.count > 0;
        const values = [
          histogram.min,
          histogram.max,
          histogram.mean,
          histogram.stddev,
          histogram.percentile(50),
          histogram.percentile(90),
          histogram.percentile(99),
        ];
        values.forEach((nanoseconds, i) => statistics[i]!.set(sampled ? nanoseconds / 1e9 : 0));
        histogram.reset(); // the next scrape reports the samples after this one
      },
    });
    const help = ['minimum', 'maximum', 'mean', 'standard deviation'].concat(
      ['50th', '90th', '99th'].map((p) => `${p} percentile`),
    );
    const statistics = stats.map(
      (name, i) =>
        new Gauge({
          name: name!,
          help: `The ${help[i]} of the event loop delays sampled.`,
          registers: [registry],
        }),
    );
  }

  /** The platform works (a request, an append): sample the delay until it has been idle a while. */
  readonly wake = (): void => {
    this.lastWake = performance.now();
    if (this.idleCheck) return;
    this.histogram.enable();
    this.idleCheck = setTimeout(this.sleepIfIdle, LOOP_DELAY_IDLE_AFTER_MS).unref();
  };

  /** Sampling now (for tests). */
  get sampling(): boolean {
    return this.idleCheck !== undefined;
  }

  private readonly sleepIfIdle = (): void => {
    const quiet = performance.now() - this.lastWake;
    if (quiet < LOOP_DELAY_IDLE_AFTER_MS) {
      this.idleCheck = setTimeout(this.sleepIfIdle, LOOP_DELAY_IDLE_AFTER_MS - quiet).unref();
      return;
    }
    this.histogram.disable();
    this.idleCheck = undefined;
  };
}

export const loopDelay = new LoopDelay();

export const eventsAppended = new Counter({
  name: 'tributary_events_appended_total',
  help: 'Events appended to the event store',
  labelNames: ['type'],
  registers: [registry],
});

export const relayPublished = new Counter({
  name: 'tributary_relay_published_total',
  help: 'Events published to Kafka by the outbox relay',
  labelNames: ['topic'],
  registers: [registry],
});

export const relayLag = new Gauge({
  name: 'tributary_relay_lag_events',
  help: 'Events in the store not yet published by the outbox relay',
  registers: [registry],
});

export const consumerLag = new Gauge({
  name: 'tributary_consumer_lag_events',
  help: "Events published to a consumer group's topics and not yet processed by it",
  labelNames: ['consumer'],
  registers: [registry],
});

export const consumerProcessed = new Counter({
  name: 'tributary_consumer_processed_total',
  help: 'Events whose effect a consumer committed (duplicates excluded)',
  labelNames: ['consumer'],
  registers: [registry],
});

export const handlerFailures = new Counter({
  name: 'tributary_consumer_handler_failures_total',
  help: 'Failed handler attempts (each retry counts)',
  labelNames: ['consumer'],
  registers: [registry],
});

export const deadLetters = new Counter({
  name: 'tributary_dead_letters_total',
  help: "Events sent to a consumer's dead-letter topic",
  labelNames: ['consumer', 'reason'],
  registers: [registry],
});

export const handlerDuration = new Histogram({
  name: 'tributary_consumer_handler_seconds',
  help: 'Time to run a handler and commit its effect',
  labelNames: ['consumer'],
  buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
  registers: [registry],
});

export const projectionLagEvents = new Gauge({
  name: 'tributary_projection_lag_events',
  help: 'Events in the store a projection has not applied yet',
  labelNames: ['projection'],
  registers: [registry],
});

export const projectionLagSeconds = new Gauge({
  name: 'tributary_projection_lag_seconds',
  help: 'Age of the oldest event a projection has not applied yet (0 when caught up)',
  labelNames: ['projection'],
  registers: [registry],
});

export const projectionApplied = new Counter({
  name: 'tributary_projection_events_total',
  help: 'Events of the global log a projection moved past (applied or not of its types)',
  labelNames: ['projection'],
  registers: [registry],
});

export const projectionFailures = new Counter({
  name: 'tributary_projection_failures_total',
  help: 'Batches a projection failed to apply (it retries with backoff)',
  labelNames: ['projection'],
  registers: [registry],
});
