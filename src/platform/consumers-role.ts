import { ConfigError } from '../kernel/config-error.ts';
import type { Subscription } from '../kernel/bus/bus.ts';
import type { ConsumerDefinition } from '../kernel/consumers/consumer.ts';
import { ConsumerRunner } from '../kernel/consumers/consumer-runner.ts';
import type { Database } from '../kernel/db/database.ts';
import type { PlatformCore } from './core.ts';
import type { RunningRole } from './role.ts';

/** A consumer and the database its inbox lives in, beside its effect. */
export interface ConsumerEntry {
  consumer: ConsumerDefinition;
  db: Database;
}

/** The runner of a consumer (the consumers role runs them; the DLQ replay of the API too). */
export const consumerRunner = (core: PlatformCore, { consumer, db }: ConsumerEntry): ConsumerRunner =>
  new ConsumerRunner(consumer, {
    db,
    catalog: core.catalog,
    clock: core.clock,
    log: core.log,
    deadLetters: core.deadLetters,
    retry: core.config.retry,
    publishDeadLetter: (name, message, error) => core.bus.publishDeadLetter(name, message, error),
  });

/** The consumers `--consumers` names (all when unset); an unknown name stops the start. */
export function selectConsumers(
  entries: readonly ConsumerEntry[],
  names: readonly string[] | undefined,
): ConsumerEntry[] {
  if (!names) return [...entries];
  const known = entries.map((entry) => entry.consumer.name);
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length > 0) throw new ConfigError(`unknown consumer: ${unknown.join(', ')} (known: ${known.join(', ')})`);
  return entries.filter((entry) => names.includes(entry.consumer.name));
}

/**
 * Subscribes each consumer to the bus, one consumer group each: processes running the same
 * consumer share its Kafka partitions (on the embedded bus there is only one process).
 */
export async function startConsumers(
  core: PlatformCore,
  entries: readonly ConsumerEntry[],
  subscriptions: Subscription[],
  signal: AbortSignal,
): Promise<RunningRole> {
  for (const entry of entries) {
    if (signal.aborted) break;
    subscriptions.push(await core.bus.subscribe(consumerRunner(core, entry)));
  }
  return {
    role: 'consumers',
    stop: async () => void (await Promise.all(subscriptions.map((subscription) => subscription.stop()))),
  };
}
