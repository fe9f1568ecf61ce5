import { describe, it, expect } from 'vitest';
import { Parser } from '@asyncapi/parser';
import { seedEvents } from '../../domain/events/index.ts';
import { asyncApiDocument } from './asyncapi.ts';
import { EventCatalog } from './catalog.ts';

const seedTopics = [
  'customer.registered',
  'payment.processed',
  'subscription.created',
  'subscription.renewed',
  'subscription.cancelled',
];
const catalog = new EventCatalog(seedEvents);

interface Doc {
  servers: Record<string, { host: string; protocol: string }>;
  channels: Record<string, { address: string; messages: Record<string, unknown> }>;
  operations: Record<string, { action: string; channel: { $ref: string } }>;
  components: {
    messages: Record<
      string,
      { headers: { properties: Record<string, unknown> }; bindings: { kafka: { key: unknown } } }
    >;
  };
}

describe('AsyncAPI document', () => {
  const doc = asyncApiDocument(catalog, { title: 'Tributary', version: '0.1.0' });

  it('is a valid AsyncAPI 3.0.0 document', async () => {
    const diagnostics = await new Parser().validate(doc as Parameters<Parser['validate']>[0]);
    expect(diagnostics.filter((d) => d.severity === 0)).toEqual([]);
  });

  it('parses, with every seed topic as a channel carrying its message', async () => {
    const { document, diagnostics } = await new Parser().parse(doc as Parameters<Parser['parse']>[0]);
    expect(diagnostics.filter((d) => d.severity === 0)).toEqual([]);
    expect(document).toBeDefined();
    const addresses = document!
      .channels()
      .all()
      .map((channel) => channel.address());
    for (const topic of seedTopics) expect(addresses).toContain(topic);
    for (const definition of seedEvents) {
      const channel = document!
        .channels()
        .all()
        .find((c) => c.address() === definition.topic);
      expect(
        channel
          ?.messages()
          .all()
          .map((m) => m.name()),
      ).toContain(definition.type);
    }
    expect(
      document!
        .operations()
        .all()
        .every((operation) => operation.action() === 'send'),
    ).toBe(true);
  });

  it('describes CloudEvents headers and the Kafka key for each message', () => {
    const { channels, components, operations, servers } = doc as Doc;
    expect(Object.keys(channels).sort()).toEqual(catalog.topics());
    expect(Object.keys(operations)).toContain('sendCustomerRegistered');
    expect(servers['kafka']).toEqual(expect.objectContaining({ host: '127.0.0.1:9092', protocol: 'kafka' }));
    for (const definition of seedEvents) {
      const message = components.messages[definition.type]!;
      expect(Object.keys(message.headers.properties)).toEqual(
        expect.arrayContaining([
          'ce_id',
          'ce_type',
          'ce_source',
          'ce_specversion',
          'ce_time',
          'ce_subject',
          'content-type',
          'ce_schemaversion',
          'ce_correlationid',
          'ce_causationid',
          'ce_actor',
        ]),
      );
      expect(message.bindings.kafka.key).toEqual(expect.objectContaining({ type: 'string' }));
    }
    expect(JSON.stringify(doc)).not.toContain('$schema');
  });

  it('takes its servers from the brokers list', () => {
    const { servers } = asyncApiDocument(catalog, {
      title: 'Tributary',
      version: '0.1.0',
      kafkaBrokers: 'kafka-1:9092,kafka-2:9092',
    }) as Doc;
    expect(Object.values(servers).map((server) => server.host)).toEqual(['kafka-1:9092', 'kafka-2:9092']);
  });
});
