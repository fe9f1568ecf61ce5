import type { Bus } from '../kernel/bus/bus.ts';
import { EmbeddedBus } from '../kernel/bus/embedded-bus.ts';
import type { EventCatalog } from '../kernel/catalog/catalog.ts';
import type { Clock } from '../kernel/clock.ts';
import type { Config } from '../kernel/config.ts';
import type { Logger } from '../kernel/logger.ts';
import type { EventStore } from '../kernel/store/event-store.ts';

/** Kafka when `KAFKA_BROKERS` is set, else the store's own log. */
export async function openBus(
  config: Config,
  deps: { store: EventStore; catalog: EventCatalog; clock: Clock; log: Logger },
): Promise<Bus> {
  if (!config.kafka) return new EmbeddedBus(deps);
  // Loaded only here: the Kafka client is a large part of an embedded start that never uses it.
  const { KafkaBus } = await import('../kernel/bus/kafka-bus.ts');
  return new KafkaBus({ ...config.kafka, clientId: 'tributary', catalog: deps.catalog, log: deps.log });
}
