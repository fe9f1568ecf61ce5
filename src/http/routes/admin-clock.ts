import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ClockAdvance, ClockService } from '../../services/subscriptions/clock-service.ts';
import { NotFoundError, requireAdmin } from '../auth.ts';
import { InvalidRequestError } from '../invalid-request.ts';
import { problem } from '../problem-schema.ts';

const DAY_MS = 86_400_000;
/** An advance goes at most ten years ahead, however it is given. */
const MAX_ADVANCE_DAYS = 3660;

const clockView = z.object({
  now: z.string(),
  offsetMs: z.number().describe('how far ahead of the wall clock the test clock runs'),
  frozen: z.boolean().describe('true: it stands still until advanced or unfrozen'),
  advancing: z.string().nullable().describe('the id of the advance in progress'),
});

const advanceView = z.object({
  id: z.string(),
  status: z.enum(['running', 'completed', 'failed']),
  done: z.int().describe('jobs run so far (renewals, dunning retries, ends)'),
  left: z.int().describe('jobs known to fall due before the target'),
  now: z.string(),
  error: z.string().optional(),
});

const advanceBody = z
  .object({
    days: z.number().min(0).max(MAX_ADVANCE_DAYS).optional(),
    hours: z
      .number()
      .min(0)
      .max(MAX_ADVANCE_DAYS * 24)
      .optional(),
    to: z.iso.datetime({ offset: true }).optional().describe('an instant at most ten years ahead'),
  })
  .strict()
  .refine((body) => (body.to === undefined) !== (body.days === undefined && body.hours === undefined), {
    message: 'give either `to` or `days`/`hours`',
    path: ['to'],
  });

const advanceJson = (advance: ClockAdvance) => ({
  id: advance.id,
  status: advance.status,
  done: advance.done,
  left: advance.left,
  now: advance.now.toISOString(),
  ...(advance.error === undefined ? {} : { error: advance.error }),
});

/** The test clock (like Stripe's test clocks); absent in production, where time is the wall clock. */
export const adminClockRoutes = (deps: { clockService: ClockService; waitMs: number }) => (app: FastifyInstance) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const service = deps.clockService;
  const state = () => ({
    now: service.clock.now().toISOString(),
    offsetMs: service.clock.offset,
    frozen: service.clock.frozen,
    advancing: service.advancing,
  });
  const admin = { tags: ['admin'], security: [{ bearer: [] }] };

  api.get(
    '/admin/clock',
    { schema: { ...admin, summary: 'The test clock', response: { 200: clockView, 401: problem } } },
    async (request) => {
      requireAdmin(request);
      return state();
    },
  );

  for (const action of ['freeze', 'unfreeze'] as const) {
    api.post(
      `/admin/clock/${action}`,
      {
        schema: {
          ...admin,
          summary:
            action === 'freeze'
              ? 'Stop the test clock where it is (it still moves by advances)'
              : 'Let the test clock follow the wall clock again, from where it stands',
          response: { 200: clockView, 401: problem },
        },
      },
      async (request) => {
        requireAdmin(request);
        await (action === 'freeze' ? service.freeze() : service.unfreeze());
        return state();
      },
    );
  }

  api.post(
    '/admin/clock/advance',
    {
      schema: {
        ...admin,
        summary: 'Move the test clock forward; every renewal, dunning retry and job due on the way runs, in order',
        description: `200 when it finished within ${deps.waitMs} ms; else 202 with a Location to follow its progress. One advance at a time (409).`,
        body: advanceBody,
        response: {
          200: z.object({ now: z.string(), jobsRun: z.int() }),
          202: advanceView,
          400: problem,
          401: problem,
          409: problem,
        },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      const { days = 0, hours = 0, to } = request.body;
      const now = service.clock.now().getTime();
      const target = to === undefined ? now + (days * 24 + hours) * 3600_000 : Date.parse(to);
      if (target - now > MAX_ADVANCE_DAYS * DAY_MS)
        throw new InvalidRequestError(`at most ${MAX_ADVANCE_DAYS} days ahead`, to === undefined ? 'days' : 'to');
      const advance = service.startAdvance(new Date(target));
      const finished = await Promise.race([
        advance.finished.then(() => true),
        sleep(deps.waitMs, false, { ref: false }),
      ]);
      if (finished && advance.status === 'failed') throw new Error(advance.error);
      if (finished) return reply.code(200).send({ now: advance.now.toISOString(), jobsRun: advance.done });
      return reply.code(202).header('location', `/admin/clock/advances/${advance.id}`).send(advanceJson(advance));
    },
  );

  api.get(
    '/admin/clock/advances/:id',
    {
      schema: {
        ...admin,
        summary: 'An advance of the test clock: its status and the jobs done and left',
        params: z.object({ id: z.uuid() }),
        response: { 200: advanceView, 400: problem, 401: problem, 404: problem },
      },
    },
    async (request) => {
      requireAdmin(request);
      const advance = service.advance(request.params.id);
      if (!advance) throw new NotFoundError(`no advance ${request.params.id}`);
      return advanceJson(advance);
    },
  );
};
