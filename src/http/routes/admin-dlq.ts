import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { DeadLetter, DeadLetterStore } from '../../kernel/consumers/dead-letter-store.ts';
import type { ReplayReport } from '../../kernel/consumers/replay-dead-letters.ts';
import { NotFoundError, requireAdmin } from '../auth.ts';
import { problem } from '../problem-schema.ts';

const deadLetter = z.object({
  id: z.number(),
  consumer: z.string(),
  eventId: z.string().nullable(),
  eventType: z.string().nullable(),
  topic: z.string(),
  error: z.string(),
  poison: z.boolean(),
  attempts: z.int(),
  failedAt: z.string(),
  headers: z.record(z.string(), z.string()),
});

const consumerParam = z.string().max(100);

/** Dead letters of every consumer: list them, and run a consumer's (all, or one) again once the cause is fixed. */
export const adminDlqRoutes =
  (deps: {
    deadLetters: DeadLetterStore;
    consumers: string[];
    replay: (consumer: string) => Promise<ReplayReport>;
    replayOne: (consumer: string, letter: DeadLetter) => Promise<{ error: string | null }>;
  }) =>
  (app: FastifyInstance) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    const requireConsumer = (consumer: string) => {
      if (!deps.consumers.includes(consumer)) throw new NotFoundError(`no consumer ${consumer}`);
    };
    api.get(
      '/admin/dlq',
      {
        schema: {
          tags: ['admin'],
          summary: 'Pending dead letters',
          security: [{ bearer: [] }],
          querystring: z.object({
            consumer: z.string().max(100).optional(),
            limit: z.coerce.number().int().min(1).max(1000).default(100),
          }),
          response: { 200: z.object({ deadLetters: z.array(deadLetter) }), 400: problem, 401: problem },
        },
      },
      async (request) => {
        requireAdmin(request);
        const letters = await deps.deadLetters.list({ consumer: request.query.consumer, limit: request.query.limit });
        return {
          deadLetters: letters.map((letter) => ({
            id: letter.id,
            consumer: letter.consumer,
            eventId: letter.eventId,
            eventType: letter.eventType,
            topic: letter.topic,
            error: letter.error,
            poison: letter.poison,
            attempts: letter.attempts,
            failedAt: letter.failedAt.toISOString(),
            headers: letter.message.headers,
          })),
        };
      },
    );

    api.post(
      '/admin/dlq/:consumer/replay',
      {
        schema: {
          tags: ['admin'],
          summary:
            "Run a consumer's pending dead letters through its handler again (an applied event is not applied twice)",
          security: [{ bearer: [] }],
          params: z.object({ consumer: consumerParam }),
          response: {
            200: z.object({
              consumer: z.string(),
              replayed: z.int(),
              failed: z.array(z.object({ id: z.number(), error: z.string() })),
            }),
            401: problem,
            404: problem,
          },
        },
      },
      async (request) => {
        requireAdmin(request);
        requireConsumer(request.params.consumer);
        return deps.replay(request.params.consumer);
      },
    );

    api.post(
      '/admin/dlq/:consumer/:id/replay',
      {
        schema: {
          tags: ['admin'],
          summary:
            "Run one of a consumer's pending dead letters through its handler again (kept pending if it fails again)",
          security: [{ bearer: [] }],
          params: z.object({
            consumer: consumerParam,
            id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).describe('the dead letter id'),
          }),
          response: {
            200: z.object({
              consumer: z.string(),
              id: z.number(),
              replayed: z.boolean(),
              error: z.string().nullable().describe('why it failed again'),
            }),
            400: problem,
            401: problem,
            404: problem,
          },
        },
      },
      async (request) => {
        requireAdmin(request);
        const { consumer, id } = request.params;
        requireConsumer(consumer);
        const letter = await deps.deadLetters.findPending(consumer, id);
        if (!letter) throw new NotFoundError(`no pending dead letter ${id} of ${consumer}`);
        const { error } = await deps.replayOne(consumer, letter);
        return { consumer, id, replayed: error === null, error };
      },
    );
  };
