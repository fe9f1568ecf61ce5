import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireAdmin } from '../auth.ts';
import { problem } from '../problem-schema.ts';
import { RATE_WINDOW, type EventFlow } from './event-flow.ts';

const consumerStatus = z.object({
  name: z.string(),
  topics: z.array(z.string()),
  lag: z
    .number()
    .nullable()
    .describe('events published to its topics and not yet processed; null while it is not subscribed'),
  partitions: z
    .array(z.object({ topic: z.string(), partition: z.int(), lag: z.number() }))
    .nullable()
    .describe('Kafka: the lag on each partition of its topics; null on the embedded bus (one log, no partitions)'),
  deadLetters: z.int().describe('pending dead letters'),
  checkpoint: z
    .object({ position: z.number(), updatedAt: z.string() })
    .nullable()
    .describe('embedded bus: its position in the log'),
});

/** The event flow as wired in this platform (producers → topics → consumers), with rates, lag and dead letters. */
export const adminFlowRoutes = (flow: EventFlow) => (app: FastifyInstance) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.get(
    '/admin/flow',
    {
      schema: {
        tags: ['admin'],
        summary:
          'The event flow: producers, the topics consumers read (events per second over the last minute), every consumer with lag and dead letters',
        security: [{ bearer: [] }],
        response: {
          200: z.object({
            producers: z.array(z.object({ name: z.string(), topics: z.array(z.string()) })),
            topics: z.array(
              z.object({
                name: z.string(),
                producer: z.string(),
                eventTypes: z.array(z.string()),
                perSecond: z.number(),
                lastMinute: z.int(),
              }),
            ),
            consumers: z.array(consumerStatus),
          }),
          401: problem,
        },
      },
    },
    async (request) => {
      requireAdmin(request);
      const [rates, consumers] = await Promise.all([flow.rates(), flow.consumers()]);
      const topics = flow.topics().map((topic) => {
        const lastMinute = rates.get(topic.name) ?? 0;
        return { ...topic, lastMinute, perSecond: Math.round((lastMinute / RATE_WINDOW) * 100) / 100 };
      });
      const producers = [...new Set(topics.map((topic) => topic.producer))].map((name) => ({
        name,
        topics: topics.filter((topic) => topic.producer === name).map((topic) => topic.name),
      }));
      return { producers, topics, consumers };
    },
  );

  api.get(
    '/admin/consumers',
    {
      schema: {
        tags: ['admin'],
        summary: 'Every consumer group: its topics, lag, pending dead letters and checkpoint',
        security: [{ bearer: [] }],
        response: { 200: z.object({ consumers: z.array(consumerStatus) }), 401: problem },
      },
    },
    async (request) => {
      requireAdmin(request);
      return { consumers: await flow.consumers() };
    },
  );
};
