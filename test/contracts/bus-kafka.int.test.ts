import { Admin, Producer, stringSerializers } from '@platformatic/kafka';
import { inject } from 'vitest';
import { KafkaBus } from '../../src/kernel/bus/kafka-bus.ts';
import { silentLogger } from '../../src/kernel/logger.ts';
import { OutboxRelay } from '../../src/kernel/outbox/outbox-relay.ts';
import { openStore } from '../support/open-store.ts';
import { postgresAvailable, uniqueName } from '../support/postgres.ts';
import { testCatalog } from '../support/test-catalog.ts';
import { busContract } from './bus.contract.ts';

busContract('Kafka (PostgreSQL store + outbox relay)', async () => {
  const brokers = inject('kafkaBrokers');
  if (!brokers || !(await postgresAvailable())) return null;
  const bootstrapBrokers = brokers.split(',');
  const prefix = `${uniqueName('contract')}.`;
  const { db, store, clock, close } = await openStore('PostgreSQL');
  const bus = new KafkaBus({
    brokers: bootstrapBrokers,
    clientId: 'bus-contract',
    topicPrefix: prefix,
    catalog: testCatalog,
    log: silentLogger,
    sessionTimeoutMs: 10_000,
    maxWaitMs: 100,
  });
  await bus.start();
  const relay = new OutboxRelay({
    store,
    catalog: testCatalog,
    publisher: bus,
    clock,
    log: silentLogger,
    pollIntervalMs: 20,
  });
  await relay.start();
  const producer = new Producer({ clientId: 'bus-contract-poison', bootstrapBrokers, serializers: stringSerializers });
  return {
    db,
    store,
    clock,
    bus,
    // On Kafka a poison message is anything on the topic that is not a CloudEvent.
    async injectPoison(topic: string, key: string) {
      await producer.send({ messages: [{ topic: `${prefix}${topic}`, key, value: 'this is not a CloudEvent' }] });
    },
    async close() {
      await relay.stop();
      await bus.close();
      await producer.close();
      const admin = new Admin({ clientId: 'bus-contract-cleanup', bootstrapBrokers });
      const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
      if (topics.length) await admin.deleteTopics({ topics }).catch(() => {});
      await admin.close();
      await close();
    },
  };
});
