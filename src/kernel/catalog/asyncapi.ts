import { z } from 'zod';
import type { EventCatalog } from './catalog.ts';
import type { EventDefinition } from './define-event.ts';

const DEFAULT_BROKER = '127.0.0.1:9092';
const KAFKA_BINDING_VERSION = '0.5.0';

/**
 * The catalog as an AsyncAPI 3.0.0 document: one channel per topic, one message per event type
 * (payload = the current version's JSON Schema), CloudEvents binary-mode headers, the customer id
 * as Kafka key, and a `send` operation per channel since the platform is the publisher.
 */
export function asyncApiDocument(
  catalog: EventCatalog,
  info: { title: string; version: string; kafkaBrokers?: string },
): object {
  const brokers = (info.kafkaBrokers ?? DEFAULT_BROKER)
    .split(',')
    .map((broker) => broker.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, ''))
    .filter((broker) => broker.length > 0);
  const servers = Object.fromEntries(
    (brokers.length > 0 ? brokers : [DEFAULT_BROKER]).map((host, i) => [
      i === 0 ? 'kafka' : `kafka-${i + 1}`,
      { host, protocol: 'kafka', description: 'Kafka broker (bootstrap server)' },
    ]),
  );

  const channels: Record<string, object> = {};
  const operations: Record<string, object> = {};
  for (const topic of catalog.topics()) {
    const types = catalog.typesOf([topic]);
    channels[topic] = {
      address: topic,
      title: topic,
      messages: Object.fromEntries(types.map((type) => [type, { $ref: `#/components/messages/${type}` }])),
    };
    const operationId = `send${topic
      .split(/[.\-_]/)
      .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
      .join('')}`;
    operations[operationId] = {
      action: 'send',
      title: `Publish to ${topic}`,
      channel: { $ref: `#/channels/${topic}` },
      messages: types.map((type) => ({ $ref: `#/channels/${topic}/messages/${type}` })),
    };
  }

  const messages = Object.fromEntries(
    catalog.definitions.map((definition) => [
      definition.type,
      {
        name: definition.type,
        title: `${definition.type} v${definition.version}`,
        summary: definition.description,
        contentType: 'application/json',
        correlationId: { location: '$message.header#/ce_correlationid' },
        headers: cloudEventsHeaders(definition),
        payload: jsonSchema(definition.schema),
        bindings: {
          kafka: {
            key: {
              type: 'string',
              format: 'uuid',
              description: 'The customer id: one customer’s events stay in order on one partition.',
            },
            bindingVersion: KAFKA_BINDING_VERSION,
          },
        },
      },
    ]),
  );

  return {
    asyncapi: '3.0.0',
    info: {
      title: info.title,
      version: info.version,
      description:
        'Every fact of the platform as an event, published to Kafka as a CloudEvents 1.0 message in binary mode (ce_* headers, JSON data).',
    },
    defaultContentType: 'application/json',
    servers,
    channels,
    operations,
    components: { messages },
  };
}

/** CloudEvents 1.0 Kafka binding, binary mode: attributes travel as `ce_*` string headers. */
function cloudEventsHeaders(definition: EventDefinition): object {
  const text = (description: string, extra: object = {}) => ({ type: 'string', description, ...extra });
  return {
    type: 'object',
    required: [
      'ce_id',
      'ce_type',
      'ce_source',
      'ce_specversion',
      'ce_time',
      'content-type',
      'ce_schemaversion',
      'ce_correlationid',
      'ce_actor',
    ],
    properties: {
      ce_id: text('The event id (UUID v7), unique: consumers deduplicate on it.', { format: 'uuid' }),
      ce_type: text('The event type.', { const: definition.type }),
      ce_source: text('The producing service.', { format: 'uri-reference' }),
      ce_specversion: text('CloudEvents version.', { const: '1.0' }),
      ce_time: text('When the event occurred (ISO-8601, UTC).', { format: 'date-time' }),
      ce_subject: text('The stream (aggregate) the event belongs to.'),
      'content-type': text('Media type of the data.', { const: 'application/json' }),
      ce_schemaversion: text('Version of the data schema; older versions are upcast on read.', {
        const: String(definition.version),
      }),
      ce_correlationid: text('The request or process the event is part of.'),
      ce_causationid: text('The id of the command or event that caused this one; absent for the first.'),
      ce_actor: text('Who caused the event (user, service or system).'),
      ce_traceparent: text(
        'CloudEvents distributed-tracing extension: the W3C traceparent of the span that appended it.',
        {
          pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$',
        },
      ),
    },
  };
}

/** Zod 4's JSON Schema (draft-07, which AsyncAPI schemas extend), without `$schema` keys. */
function jsonSchema(schema: z.ZodType): object {
  return JSON.parse(
    JSON.stringify(z.toJSONSchema(schema, { target: 'draft-07' }), (key, value: unknown) =>
      key === '$schema' ? undefined : value,
    ),
  ) as object;
}
