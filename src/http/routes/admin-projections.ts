import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { UnknownProjectionError } from '../../kernel/projections/errors.ts';
import type { ProjectionRunner } from '../../kernel/projections/projection-runner.ts';
import { requireAdmin } from '../auth.ts';
import { problem } from '../problem-schema.ts';

const position = z.object({ txId: z.string(), position: z.number() });
const projectionStatus = z.object({
  name: z.string(),
  schema: z.string(),
  version: z.int(),
  state: z.enum(['starting', 'running', 'failing', 'stopped']),
  checkpoint: position.describe('the last event applied, in the order the global log is read'),
  eventsApplied: z.number(),
  lag: z.object({ events: z.number(), seconds: z.number() }),
  lastError: z.string().nullable(),
  rebuild: z
    .object({ startedAt: z.string(), processed: z.number(), total: z.number(), percent: z.number() })
    .nullable()
    .describe('progress of a rebuild in this process'),
  lastRebuild: z.object({ finishedAt: z.string(), events: z.number(), seconds: z.number() }).nullable(),
});

/** The projections behind the query APIs: their checkpoints and lag, and rebuilds without downtime. */
export const adminProjectionRoutes = (runners: readonly ProjectionRunner[]) => (app: FastifyInstance) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const find = (name: string) => {
    const runner = runners.find((candidate) => candidate.name === name);
    if (!runner)
      throw new UnknownProjectionError(`no projection ${name} (known: ${runners.map((r) => r.name).join(', ')})`);
    return runner;
  };

  api.get(
    '/admin/projections',
    {
      schema: {
        tags: ['admin'],
        summary: 'Each projection: checkpoint, lag (events and seconds), state, rebuild progress',
        security: [{ bearer: [] }],
        response: { 200: z.object({ projections: z.array(projectionStatus) }), 401: problem },
      },
    },
    async (request) => {
      requireAdmin(request);
      return { projections: await Promise.all(runners.map((runner) => runner.status())) };
    },
  );

  api.post(
    '/admin/projections/:name/rebuild',
    {
      schema: {
        tags: ['admin'],
        summary:
          'Rebuild a view from the start of the log into a shadow copy, then swap it in; the old one serves meanwhile. Follow the progress at GET /admin/projections',
        security: [{ bearer: [] }],
        params: z.object({ name: z.string().max(100) }),
        response: { 202: projectionStatus, 401: problem, 404: problem },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      const runner = find(request.params.name);
      runner
        .rebuild()
        .catch((error: unknown) =>
          request.log.error({ err: error, projection: runner.name }, 'projection rebuild failed'),
        );
      return reply.code(202).send(await runner.status());
    },
  );
};
