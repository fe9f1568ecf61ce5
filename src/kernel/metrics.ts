import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The platform's Prometheus metrics, served at `/metrics`. */
export const registry = new Registry();
// The event-loop lag is sampled every 500 ms, not every 10 ms (the default): each sample wakes an idle process.
// A stall of half a second or more is always seen; a shorter one by chance, in proportion to its length.
collectDefaultMetrics({ register: registry, prefix: 'tributary_', eventLoopMonitoringPrecision: 500 });

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
