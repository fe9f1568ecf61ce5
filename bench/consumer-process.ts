/**
 * A process that runs only consumers, for `bench:consumers --processes`: joins the given groups
 * (no-op handlers through the ConsumerRunner, its inbox in the bench schema) on Kafka and reports
 * its deliveries to the parent over IPC until told to stop. Arguments: --url --prefix --groups a,b
 * --topics (JSON of group → topics).
 */
import { EventCatalog } from '../src/kernel/catalog/catalog.ts';
import { systemClock } from '../src/kernel/clock.ts';
import { KafkaBus } from '../src/kernel/bus/kafka-bus.ts';
import type { Subscription } from '../src/kernel/bus/bus.ts';
import { ConsumerRunner } from '../src/kernel/consumers/consumer-runner.ts';
import { DeadLetterStore } from '../src/kernel/consumers/dead-letter-store.ts';
import { defaultRetryPolicy } from '../src/kernel/consumers/retry-policy.ts';
import { openPostgres } from '../src/kernel/db/postgres.ts';
import { silentLogger } from '../src/kernel/logger.ts';
import { seedEvents } from '../src/domain/events/index.ts';
import { argOf } from './support.ts';

const topics = JSON.parse(argOf('topics')!) as Record<string, string[]>;
const db = await openPostgres({ url: argOf('url')!, schema: argOf('schema')!, poolSize: 10 });
const catalog = new EventCatalog(seedEvents);
const bus = new KafkaBus({
  brokers: argOf('brokers')!.split(','),
  clientId: `bench-process-${process.pid}`,
  topicPrefix: argOf('prefix')!,
  catalog,
  log: silentLogger,
});
let delivered = 0;
let first = 0;
let last = 0;
const now = () => performance.timeOrigin + performance.now();
const tick = () => {
  last = now();
  if (delivered++ === 0) first = last;
};
const subscriptions: Subscription[] = [];
for (const name of Object.keys(topics)) {
  const runner = new ConsumerRunner(
    { name, topics: topics[name]!, handle: async () => tick() },
    {
      db,
      catalog,
      clock: systemClock,
      log: silentLogger,
      deadLetters: new DeadLetterStore(db, systemClock),
      retry: defaultRetryPolicy,
    },
  );
  subscriptions.push(await bus.subscribe(runner));
}
const report = setInterval(() => process.send?.({ delivered, first, last }), 50);
process.send?.({ ready: true });
process.on('message', async () => {
  clearInterval(report);
  process.send?.({ delivered, first, last });
  await Promise.all(subscriptions.map((subscription) => subscription.stop()));
  await bus.close();
  await db.close();
  process.exit(0);
});
