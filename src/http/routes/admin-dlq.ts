import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { DeadLetterStore } from '../../kernel/consumers/dead-letter-store.ts';
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

/** Dead letters of every consumer: list them, and run a consumer's again once the cause is fixed. */
export const adminDlqRoutes =
  (deps: { deadLetters: DeadLetterStore; consumers: string[]; replay: (consumer: string) => Promise<ReplayReport> }) =>
  (app: FastifyInstance) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
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
          params: z.object({ consumer: z.string().max(100) }),
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
        if (!deps.consumers.includes(request.params.consumer))
          throw new NotFoundError(`no consumer ${request.params.consumer}`);
        return deps.replay(request.params.consumer);
      },
    );
  };
