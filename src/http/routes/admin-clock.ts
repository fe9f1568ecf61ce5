import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Clock } from '../../kernel/clock.ts';
import type { ClockService } from '../../services/subscriptions/clock-service.ts';
import { requireAdmin } from '../auth.ts';
import { problem } from '../problem-schema.ts';

const clockView = z.object({ now: z.string(), mode: z.literal('test') });

/** The test clock (like Stripe's test clocks); absent in production, where time is the wall clock. */
export const adminClockRoutes = (deps: { clock: Clock; clockService: ClockService }) => (app: FastifyInstance) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.get('/admin/clock', { schema: { tags: ['admin'], summary: 'The test clock', security: [{ bearer: [] }], response: { 200: clockView, 401: problem } } }, async (request) => {
    requireAdmin(request);
    return { now: deps.clock.now().toISOString(), mode: 'test' as const };
  });

  api.post(
    '/admin/clock/advance',
    {
      schema: {
        tags: ['admin'],
        summary: 'Move the test clock forward; every renewal, dunning retry and job due on the way runs, in order, before the answer',
        security: [{ bearer: [] }],
        body: z
          .object({ days: z.number().min(0).max(3660).optional(), hours: z.number().min(0).max(87_840).optional(), to: z.iso.datetime().optional() })
          .strict()
          .refine((body) => (body.to === undefined) !== (body.days === undefined && body.hours === undefined), 'give either `to` or `days`/`hours`'),
        response: { 200: clockView.extend({ jobsRun: z.int() }), 400: problem, 401: problem },
      },
    },
    async (request) => {
      requireAdmin(request);
      const { days = 0, hours = 0, to } = request.body;
      const target = to ? new Date(to) : new Date(deps.clock.now().getTime() + (days * 24 + hours) * 3600_000);
      const { now, jobsRun } = await deps.clockService.advanceTo(target);
      return { now: now.toISOString(), mode: 'test' as const, jobsRun };
    },
  );
};
