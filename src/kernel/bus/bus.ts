import type { ConsumerRunner } from '../consumers/consumer-runner.ts';
import type { BusMessage } from './message.ts';

/** A consumer group's lag on one partition of one topic. */
export interface PartitionLag {
  topic: string;
  partition: number;
  lag: number;
}

/** A running consumer group member. */
export interface Subscription {
  readonly consumer: string;
  /** Events published to its topics and not yet processed. */
  lag(): Promise<number>;
  /**
   * True while the member waits, having read everything its process has seen of the log since:
   * its lag is zero as far as this process knows (a commit nobody announced is seen within the
   * store's safety poll), without a count. Where a bus has no such knowledge, absent.
   */
  caughtUp?(): boolean;
  /** The lag per topic partition, where the bus has partitions (Kafka). */
  lagByPartition?(): Promise<PartitionLag[]>;
  /** Finishes the message in hand, commits, leaves the group. */
  stop(): Promise<void>;
}

/**
 * Delivers the store's events to consumer groups, at least once and in order per key.
 * Two backends: Kafka (fed by the outbox relay) and embedded (the store's global log).
 */
export interface Bus {
  readonly kind: 'kafka' | 'embedded';
  /** Connects and creates what the bus needs (topics on Kafka). */
  start(): Promise<void>;
  subscribe(runner: ConsumerRunner): Promise<Subscription>;
  /** Sends a dead letter to the consumer's dead-letter topic, where the bus has topics. */
  publishDeadLetter(consumer: string, message: BusMessage, error: string): Promise<void>;
  /** True when the bus can deliver now (for `/ready`). */
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}
