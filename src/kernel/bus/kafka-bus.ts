import { setTimeout as sleep } from 'node:timers/promises';
import {
  Admin,
  compatibilityPartitioner,
  Consumer,
  ListOffsetTimestamps,
  ProduceAcks,
  Producer,
  stringDeserializers,
  stringSerializers,
  type Message,
  type MessagesStream,
} from '@platformatic/kafka';
import type { EventCatalog } from '../catalog/catalog.ts';
import type { ConsumerRunner } from '../consumers/consumer-runner.ts';
import { deadLetterTopic } from '../consumers/consumer.ts';
import { PartitionMarks } from '../consumers/partition-marks.ts';
import type { Logger } from '../logger.ts';
import { consumerLag } from '../metrics.ts';
import type { Bus, PartitionLag, Subscription } from './bus.ts';
import type { BusMessage } from './message.ts';
import { describeKafkaError } from './describe-kafka-error.ts';

export { describeKafkaError };

export interface KafkaBusOptions {
  brokers: string[];
  clientId: string;
  /** Prepended to every topic and consumer group id (tests isolate with it). */
  topicPrefix?: string;
  /** Partitions of the topics the bus creates (default 3). */
  partitions?: number;
  /** Replication factor of the topics the bus creates (default 1). */
  replicationFactor?: number;
  catalog: EventCatalog;
  log: Logger;
  /** How long a consumer that died without leaving keeps its partitions (default 30 s). */
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** How long an idle fetch waits on the broker for new messages (default 1 s). */
  maxWaitMs?: number;
  /** Most messages a consumer hands its runner at once, of those already fetched (default 1,000). */
  batchSize?: number;
  /** First and longest wait between reconnection attempts (default 500 ms and 30 s). */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
}

type StringConsumer = Consumer<string, string, string, string>;
type StringMessage = Message<string, string, string, string>;
type StringProducer = Producer<string, string, string, string>;

const backoff = (attempt: number, base: number, max: number): number =>
  Math.min(max, base * 2 ** Math.max(0, attempt - 1));

/** Kafka refuses a record batch over `max.message.bytes` (1 MB by default): larger sends are split. */
const MAX_REQUEST_BYTES = 512 * 1024;

const sizeOf = (message: BusMessage): number =>
  Buffer.byteLength(message.value) +
  Buffer.byteLength(message.key) +
  Object.entries(message.headers).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value),
    0,
  );

function* chunksOf(messages: readonly BusMessage[], maxBytes: number): Generator<BusMessage[]> {
  let chunk: BusMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = sizeOf(message);
    if (chunk.length > 0 && bytes + size > maxBytes) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(message);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

const hasApiError = (error: unknown, apiId: string): boolean =>
  Boolean((error as { findBy?: (property: string, value: unknown) => unknown }).findBy?.('apiId', apiId));

/**
 * The bus on Apache Kafka (`@platformatic/kafka`): the outbox relay publishes the store's log with
 * the shared idempotent producer; each consumer is one consumer group that commits an offset only
 * after the runner has finished the message (at least once, in order per partition).
 */
export class KafkaBus implements Bus {
  readonly kind = 'kafka' as const;
  private readonly prefix: string;
  private readonly admin: Admin;
  private producerInstance: StringProducer | undefined;
  private readonly knownTopics = new Set<string>();
  private readonly subscriptions = new Set<KafkaSubscription>();
  private readonly closing = new AbortController();
  private starting: Promise<void> | undefined;
  private ready = false;

  constructor(readonly options: KafkaBusOptions) {
    this.prefix = options.topicPrefix ?? '';
    // Fail fast inside the client: the bus's own loops do the backing off and the logging.
    this.admin = new Admin({
      clientId: `${options.clientId}-admin`,
      bootstrapBrokers: options.brokers,
      retries: 1,
      retryDelay: 250,
    });
  }

  /** The Kafka topic (or group id) for a logical name. */
  topicName(topic: string): string {
    return this.prefix + topic;
  }

  /** The logical name of a Kafka topic. */
  logicalTopic(topic: string): string {
    return this.prefix && topic.startsWith(this.prefix) ? topic.slice(this.prefix.length) : topic;
  }

  /**
   * Creates the catalog's topics, retrying with backoff while Kafka is unreachable (one log line per
   * attempt, never a throw). Resolves once they exist; `healthy()` answers false until then, so a
   * process that must serve meanwhile starts it without awaiting.
   */
  start(): Promise<void> {
    this.starting ??= this.connect();
    return this.starting;
  }

  private async connect(): Promise<void> {
    const { log, brokers } = this.options;
    for (let attempt = 1; !this.closing.signal.aborted; attempt++) {
      try {
        await this.ensureTopics(this.options.catalog.topics());
        this.ready = true;
        log.info({ brokers, topics: this.options.catalog.topics().length }, 'kafka: connected; topics ready');
        return;
      } catch (error) {
        if (this.closing.signal.aborted) return;
        const delay = this.retryDelay(attempt);
        log.error(
          { brokers, attempt, retryInMs: delay, reason: describeKafkaError(error) },
          'kafka: brokers unreachable or topics not created; retrying',
        );
        await sleep(delay, undefined, { signal: this.closing.signal }).catch(() => {});
      }
    }
  }

  retryDelay(attempt: number): number {
    return backoff(attempt, this.options.retryDelayMs ?? 500, this.options.maxRetryDelayMs ?? 30_000);
  }

  /** Creates the topics (logical names) that do not exist yet; another process creating one first is fine. */
  async ensureTopics(topics: readonly string[]): Promise<void> {
    const wanted = topics.map((topic) => this.topicName(topic)).filter((topic) => !this.knownTopics.has(topic));
    if (wanted.length === 0) return;
    const existing = new Set(await this.admin.listTopics());
    const missing = wanted.filter((topic) => !existing.has(topic));
    if (missing.length > 0) {
      try {
        await this.admin.createTopics({
          topics: missing,
          partitions: this.options.partitions ?? 3,
          replicas: this.options.replicationFactor ?? 1,
        });
        this.options.log.info({ topics: missing }, 'kafka: topics created');
      } catch (error) {
        if (!hasApiError(error, 'TOPIC_ALREADY_EXISTS')) throw error;
      }
    }
    for (const topic of wanted) this.knownTopics.add(topic);
  }

  async subscribe(runner: ConsumerRunner): Promise<Subscription> {
    await this.start();
    if (this.closing.signal.aborted) throw new Error('KafkaBus is closed');
    try {
      // Its topics are the catalog's as a rule; a consumer of another topic must not fail to join.
      await this.ensureTopics([...runner.consumer.topics, deadLetterTopic(runner.name)]);
    } catch (error) {
      // Not fatal: joining retries, and publishDeadLetter creates the dead-letter topic when it needs it.
      this.options.log.warn(
        { consumer: runner.name, reason: describeKafkaError(error) },
        'kafka: topics of the consumer not created yet',
      );
    }
    const subscription = new KafkaSubscription(this, runner, () => this.subscriptions.delete(subscription));
    this.subscriptions.add(subscription);
    await subscription.open();
    return subscription;
  }

  /**
   * Publishes messages (logical topics) with the idempotent producer, keyed so that a key lands on
   * the partition Java clients and kcat (`murmur2_random`) would choose.
   */
  async publish(messages: readonly BusMessage[]): Promise<void> {
    for (const chunk of chunksOf(messages, MAX_REQUEST_BYTES)) await this.send(chunk);
  }

  private async send(messages: readonly BusMessage[]): Promise<void> {
    const producer = this.producer();
    try {
      await producer.send({
        messages: messages.map((message) => ({
          topic: this.topicName(message.topic),
          key: message.key,
          value: message.value,
          headers: message.headers,
        })),
      });
    } catch (error) {
      // After a failed send the producer's sequence numbers may no longer match the broker's (a
      // batch written but not acknowledged); a new producer id starts clean. What was written stays
      // written: the caller resends, and consumers drop the duplicates by event id.
      if (this.producerInstance === producer) this.producerInstance = undefined;
      producer.close(true, () => {});
      throw error;
    }
  }

  async publishDeadLetter(consumer: string, message: BusMessage, error: string): Promise<void> {
    const topic = deadLetterTopic(consumer);
    await this.ensureTopics([topic]);
    const origin = message.origin ?? {};
    await this.publish([
      {
        topic,
        key: message.key,
        value: message.value,
        headers: {
          ...message.headers,
          dlq_error: error,
          dlq_consumer: consumer,
          dlq_original_topic: message.topic,
          ...(origin.partition !== undefined ? { dlq_original_partition: String(origin.partition) } : {}),
          ...(origin.offset !== undefined ? { dlq_original_offset: String(origin.offset) } : {}),
        },
      },
    ]);
  }

  async healthy(): Promise<boolean> {
    if (!this.ready || this.closing.signal.aborted) return false;
    const probe = this.admin.metadata({ topics: [], forceUpdate: true }).then(
      () => true,
      () => false,
    );
    const timeout = sleep(3_000, false, { ref: false });
    return Promise.race([probe, timeout]);
  }

  async close(): Promise<void> {
    this.closing.abort();
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    await this.starting;
    const producer = this.producerInstance;
    this.producerInstance = undefined;
    await Promise.all([producer?.close(), this.admin.close()].map((closing) => closing?.catch(() => {})));
  }

  /** @internal the admin client, for the subscriptions' lag. */
  get adminClient(): Admin {
    return this.admin;
  }

  private producer(): StringProducer {
    if (this.closing.signal.aborted) throw new Error('KafkaBus is closed');
    this.producerInstance ??= new Producer<string, string, string, string>({
      clientId: `${this.options.clientId}-producer`,
      bootstrapBrokers: this.options.brokers,
      idempotent: true,
      acks: ProduceAcks.ALL,
      // Java's and librdkafka's murmur2_random: positive murmur2 of the key, modulo the partitions.
      partitioner: compatibilityPartitioner,
      serializers: stringSerializers,
      autocreateTopics: false,
      // A bounded budget (the idempotent producer would retry forever by default), so a send fails
      // while Kafka is down and the relay can back off, report and stop.
      retries: 5,
      retryDelay: (_client, _operation, attempt) => backoff(attempt, 200, 5_000),
    });
    return this.producerInstance;
  }
}

/**
 * One consumer group member: hands its runner the messages already fetched as one batch, commits
 * their offsets only after the runner resolved (coalesced per partition, sent in the background).
 */
class KafkaSubscription implements Subscription {
  private readonly log: Logger;
  private readonly topics: string[];
  private readonly groupId: string;
  private readonly stopping = new AbortController();
  private client: StringConsumer | undefined;
  private stream: MessagesStream<string, string, string, string> | undefined;
  /** Next offset to read per `topic:partition`, as processed by this member. */
  private readonly processed = new Map<string, bigint>();
  private readonly pendingCommits = new Map<string, StringMessage>();
  private flushing: Promise<void> | undefined;
  private running: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;
  private readonly batchSize: number;
  /** Per partition, how far the group's batches applied the log: a batch writes no inbox rows. */
  private readonly marks: PartitionMarks;

  constructor(
    private readonly bus: KafkaBus,
    private readonly runner: ConsumerRunner,
    private readonly onStopped: () => void,
  ) {
    this.log = bus.options.log.child({ consumer: runner.name });
    this.topics = runner.consumer.topics.map((topic) => bus.topicName(topic));
    this.groupId = bus.topicName(runner.name);
    this.batchSize = bus.options.batchSize ?? 1_000;
    this.marks = new PartitionMarks(runner.name, runner.db);
  }

  get consumer(): string {
    return this.runner.name;
  }

  /** Joins the group (retrying while Kafka is unreachable), then processes in the background. */
  async open(): Promise<void> {
    for (let attempt = 1; !this.stopping.signal.aborted; attempt++) {
      try {
        const stream = await this.connect();
        this.running = this.run(stream);
        return;
      } catch (error) {
        await this.disconnect();
        await this.backoff(attempt, 'could not join the consumer group', error);
      }
    }
  }

  private async run(first: MessagesStream<string, string, string, string>): Promise<void> {
    let stream: MessagesStream<string, string, string, string> | undefined = first;
    for (let attempt = 1; !this.stopping.signal.aborted; attempt++) {
      try {
        stream ??= await this.connect();
        const current = stream;
        for await (const first of current as AsyncIterable<StringMessage>) {
          // With the first message, whatever the stream already holds (fetched, not waited for).
          const batch = [first];
          for (
            let next: StringMessage | null;
            batch.length < this.batchSize && (next = current.read() as StringMessage | null) !== null;
          )
            batch.push(next);
          const done = await this.handle(batch);
          for (const message of batch.slice(0, done)) this.commitLater(message);
          if (done < batch.length) break; // interrupted: the rest is redelivered to the next member
          attempt = 0;
          if (this.stopping.signal.aborted) break;
        }
        if (this.stopping.signal.aborted) break;
        throw new Error('the message stream ended');
      } catch (error) {
        if (this.stopping.signal.aborted) break;
        stream = undefined;
        await this.disconnect();
        await this.backoff(attempt, 'consuming failed; rejoining', error);
      }
    }
    await this.disconnect();
  }

  /**
   * Runs the batch (messages in delivery order) until the runner resolves and answers how many of
   * its messages are finished; an infrastructure failure (database down) retries the batch (the
   * inbox drops what was already applied).
   */
  private async handle(messages: StringMessage[]): Promise<number> {
    const busMessages = messages.map((message) => this.toBusMessage(message));
    const ordered = this.marks.batch(busMessages);
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.runner.processBatch(busMessages, ordered)).length;
      } catch (error) {
        if (this.stopping.signal.aborted) return 0;
        const first = messages[0]!;
        await this.backoff(attempt, 'processing failed; retrying the messages', error, {
          topic: busMessages[0]!.topic,
          partition: first.partition,
          offset: String(first.offset),
          size: messages.length,
        });
        if (this.stopping.signal.aborted) return 0;
      }
    }
  }

  private toBusMessage(message: StringMessage): BusMessage {
    const headers: Record<string, string> = {};
    for (const [name, value] of message.headers) {
      if (name !== undefined && value !== undefined) headers[name] = value;
    }
    return {
      topic: this.bus.logicalTopic(message.topic),
      key: message.key ?? '',
      headers,
      value: message.value ?? '',
      origin: { partition: message.partition, offset: Number(message.offset) },
    };
  }

  private async connect(): Promise<MessagesStream<string, string, string, string>> {
    const { options } = this.bus;
    const client = new Consumer<string, string, string, string>({
      clientId: `${options.clientId}-${this.runner.name}`,
      bootstrapBrokers: options.brokers,
      groupId: this.groupId,
      autocommit: false,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: options.heartbeatIntervalMs ?? 3_000,
      maxWaitTime: options.maxWaitMs ?? 1_000,
      // Fetching goes on while the runner applies a batch: the next one is there when it is done.
      highWaterMark: 2 * this.batchSize,
      deserializers: stringDeserializers,
      retries: 3,
      retryDelay: 500,
    });
    this.client = client;
    // A failed rejoin is reported as an 'error' event (it would crash the process unheard): end the
    // stream, so the loop reconnects with a new member.
    client.on('error', (error: Error) => {
      if (this.client === client) this.stream?.destroy(error);
      else this.log.warn({ reason: describeKafkaError(error) }, 'kafka: error from a closed consumer');
    });
    // A new group starts at the beginning of its topics; a known one where it committed.
    this.stream = await client.consume({
      topics: this.topics,
      mode: 'committed',
      fallbackMode: 'earliest',
      autocommit: false,
    });
    return this.stream;
  }

  /** Commits what was processed, closes the stream and leaves the group, so a successor need not wait out the session. */
  private async disconnect(): Promise<void> {
    const client = this.client;
    const stream = this.stream;
    this.client = undefined;
    this.stream = undefined;
    if (client && !client.closed) await this.flushCommits();
    this.pendingCommits.clear();
    await stream?.close().catch(() => {});
    if (!client) return;
    try {
      await client.close();
    } catch (error) {
      this.log.warn(
        { reason: describeKafkaError(error) },
        'kafka: leaving the group failed; closing the consumer anyway',
      );
      await new Promise<void>((resolve) => client.close(true, () => resolve()));
    }
  }

  private commitLater(message: StringMessage): void {
    const key = `${message.topic}:${message.partition}`;
    this.processed.set(key, message.offset + 1n);
    this.pendingCommits.set(key, message);
    this.flushing ??= this.flush();
  }

  private async flush(): Promise<void> {
    try {
      while (this.pendingCommits.size > 0) {
        const batch = [...this.pendingCommits.values()];
        this.pendingCommits.clear();
        await Promise.all(
          batch.map(async (message) => {
            try {
              await message.commit();
            } catch (error) {
              // Not fatal: a later commit covers it, or the message is redelivered (the inbox drops it).
              this.log.warn(
                { partition: message.partition, offset: String(message.offset), reason: describeKafkaError(error) },
                'kafka: offset commit failed',
              );
            }
          }),
        );
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private async flushCommits(): Promise<void> {
    while (this.flushing || this.pendingCommits.size > 0) await (this.flushing ?? (this.flushing = this.flush()));
  }

  private async backoff(
    attempt: number,
    what: string,
    error: unknown,
    context: Record<string, unknown> = {},
  ): Promise<void> {
    const delay = this.bus.retryDelay(attempt);
    this.log.error({ ...context, attempt, retryInMs: delay, reason: describeKafkaError(error) }, `kafka: ${what}`);
    await sleep(delay, undefined, { signal: this.stopping.signal }).catch(() => {});
  }

  /** Events published to its topics and not yet processed: the sum over the topics' partitions. */
  async lag(): Promise<number> {
    const value = (await this.lagByPartition()).reduce((sum, partition) => sum + partition.lag, 0);
    consumerLag.set({ consumer: this.runner.name }, value);
    return value;
  }

  /**
   * Per partition of its topics: the high watermark minus the group's position (its committed
   * offset, this member's processed offset if further, the log start if the group never committed).
   */
  async lagByPartition(): Promise<PartitionLag[]> {
    const admin = this.bus.adminClient;
    const metadata = await admin.metadata({ topics: this.topics });
    const partitionsOf = (topic: string) =>
      Array.from({ length: metadata.topics.get(topic)?.partitionsCount ?? 0 }, (_, index) => index);
    const offsetsAt = (timestamp: bigint) =>
      admin.listOffsets({
        topics: this.topics.map((name) => ({
          name,
          partitions: partitionsOf(name).map((partitionIndex) => ({ partitionIndex, timestamp })),
        })),
      });
    const [latest, earliest, committed] = await Promise.all([
      offsetsAt(ListOffsetTimestamps.LATEST),
      offsetsAt(ListOffsetTimestamps.EARLIEST),
      admin.listConsumerGroupOffsets({
        groups: [
          {
            groupId: this.groupId,
            topics: this.topics.map((name) => ({ name, partitionIndexes: partitionsOf(name) })),
          },
        ],
      }),
    ]);
    const offsets = (topics: { name: string; partitions: { partitionIndex: number; offset: bigint }[] }[]) =>
      new Map(
        topics.flatMap((topic) =>
          topic.partitions.map((p) => [`${topic.name}:${p.partitionIndex}`, p.offset] as const),
        ),
      );
    const start = offsets(earliest);
    const commits = new Map(
      committed.flatMap((group) =>
        group.topics.flatMap((topic) =>
          topic.partitions.map((p) => [`${topic.name}:${p.partitionIndex}`, p.committedOffset] as const),
        ),
      ),
    );
    return [...offsets(latest)].map(([key, end]) => {
      const commit = commits.get(key) ?? -1n;
      let position = commit >= 0n ? commit : (start.get(key) ?? 0n);
      const local = this.processed.get(key);
      if (local !== undefined && local > position) position = local;
      const separator = key.lastIndexOf(':');
      const lag = end > position ? Number(end - position) : 0;
      return { topic: key.slice(0, separator), partition: Number(key.slice(separator + 1)), lag };
    });
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping.abort();
      this.runner.stop();
      // Wakes an idle read: the stream ends, the loop finishes the message in hand and commits.
      await this.stream?.close().catch(() => {});
      await this.running;
      await this.disconnect();
      this.onStopped();
    })();
    return this.stopped;
  }
}
