import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../kernel/db/database.ts';
import type { EventStore } from '../../kernel/store/event-store.ts';
import { NotFoundError, requireAdmin } from '../auth.ts';
import { problem } from '../problem-schema.ts';
import { EventBrowser } from '../web/event-browser.ts';
import { eventEnvelope, toEnvelope } from '../web/event-view.ts';
import { InvalidTransitionError } from '../../domain/errors.ts';

const STATUSES = ['running', 'completed', 'compensating', 'compensated', 'compensation_failed'] as const;

const workflowStep = z.object({
  name: z.string(),
  phase: z.enum(['run', 'compensate']),
  status: z.string(),
  startedAt: z.string().optional(),
  completedAt: z.string().optional(),
  attempts: z.int(),
  error: z.string().optional(),
});
const workflow = z.object({
  id: z.string(),
  type: z.string(),
  status: z.string(),
  customerId: z.string().optional(),
  startedAt: z.string(),
  updatedAt: z.string(),
  attempts: z.int(),
  nextAttemptAt: z.string().optional(),
  lastError: z.string().optional(),
  steps: z.array(workflowStep),
});

interface SagaRow {
  id: string;
  type: string;
  status: string;
  state: { customerId?: string; correlationId?: string };
  failure: { message?: string } | null;
  created_at: Date;
  updated_at: Date;
}
interface StepRow {
  saga_id: string;
  step: string;
  phase: 'run' | 'compensate';
  status: string;
  attempts: number;
  started_at: Date | null;
  finished_at: Date | null;
  error: string | null;
}

const toWorkflow = (row: SagaRow, steps: StepRow[]) => {
  const failed = [...steps].reverse().find((step) => step.error);
  return {
    id: row.id,
    type: row.type,
    status: row.status,
    customerId: row.state.customerId,
    startedAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    attempts: steps.reduce((sum, step) => sum + step.attempts, 0),
    lastError: failed?.error ?? row.failure?.message ?? undefined,
    steps: steps.map((step) => ({
      name: step.step,
      phase: step.phase,
      status: step.status,
      startedAt: step.started_at?.toISOString(),
      completedAt: step.finished_at?.toISOString(),
      attempts: step.attempts,
      error: step.error ?? undefined,
    })),
  };
};

const encodeCursor = (row: SagaRow) => Buffer.from(JSON.stringify([row.created_at.toISOString(), row.id])).toString('base64url');
const decodeCursor = (cursor: string): [string, string] => JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];

/**
 * Workflows (today the registration sagas) for the console: newest first, each with its steps,
 * its event history, and a retry for one parked after its compensation failed.
 */
export const adminWorkflowRoutes = (deps: { db: Database; store: EventStore }) => (app: FastifyInstance) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const security = [{ bearer: [] }];
  const stepsOf = async (ids: string[]) => {
    if (ids.length === 0) return new Map<string, StepRow[]>();
    const { rows } = await deps.db.query<StepRow>('select * from saga_steps where saga_id = any($1::text[]) order by seq', [ids]);
    const map = new Map<string, StepRow[]>();
    for (const row of rows) map.set(row.saga_id, [...(map.get(row.saga_id) ?? []), row]);
    return map;
  };
  const load = async (id: string) => {
    const { rows } = await deps.db.query<SagaRow>('select * from sagas where id = $1', [id]);
    if (!rows[0]) throw new NotFoundError(`no workflow ${id}`);
    return rows[0];
  };

  api.get(
    '/admin/workflows',
    {
      schema: {
        tags: ['admin'],
        summary: 'Workflows newest first, by status and type',
        security,
        querystring: z.object({
          status: z.enum(STATUSES).optional(),
          type: z.string().max(64).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
          cursor: z.string().max(500).optional(),
        }),
        response: { 200: z.object({ items: z.array(workflow), nextCursor: z.string().nullable() }), 400: problem, 401: problem },
      },
    },
    async (request) => {
      requireAdmin(request);
      const { status, type, limit, cursor } = request.query;
      const params: unknown[] = [status ?? null, type ?? null, limit];
      let after = '';
      if (cursor) {
        params.push(...decodeCursor(cursor));
        after = 'and (created_at, id) < ($4::timestamptz, $5)';
      }
      const { rows } = await deps.db.query<SagaRow>(
        `select * from sagas where ($1::text is null or status = $1) and ($2::text is null or type = $2) ${after}
         order by created_at desc, id desc limit $3`,
        params,
      );
      const steps = await stepsOf(rows.map((row) => row.id));
      return {
        items: rows.map((row) => toWorkflow(row, steps.get(row.id) ?? [])),
        nextCursor: rows.length === limit ? encodeCursor(rows[rows.length - 1]!) : null,
      };
    },
  );

  api.get(
    '/admin/workflows/:id',
    {
      schema: {
        tags: ['admin'],
        summary: 'One workflow: its steps and its event history',
        security,
        params: z.object({ id: z.string().max(64) }),
        response: { 200: workflow.extend({ history: z.array(eventEnvelope) }), 401: problem, 404: problem },
      },
    },
    async (request) => {
      requireAdmin(request);
      const row = await load(request.params.id);
      const steps = await stepsOf([row.id]);
      const history = row.state.correlationId ? await new EventBrowser(deps.store).correlated(row.state.correlationId) : [];
      return { ...toWorkflow(row, steps.get(row.id) ?? []), history: history.map(toEnvelope) };
    },
  );

  api.post(
    '/admin/workflows/:id/retry',
    {
      schema: {
        tags: ['admin'],
        summary: 'Resume a workflow parked after its compensation failed: the recovery loop takes it over at once',
        security,
        params: z.object({ id: z.string().max(64) }),
        response: { 202: z.object({ id: z.string(), status: z.string() }), 401: problem, 404: problem, 409: problem },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      await load(request.params.id);
      const { rowCount } = await deps.db.query(
        `update sagas set status = 'compensating', lease_owner = null, lease_until = clock_timestamp() - interval '1 second'
         where id = $1 and status = 'compensation_failed'`,
        [request.params.id],
      );
      if (!rowCount) throw new InvalidTransitionError('registration', 'workflow_not_parked', `workflow ${request.params.id} is not parked (compensation_failed)`);
      request.log.warn({ workflowId: request.params.id, actor: 'admin' }, 'workflow retried by an operator');
      return reply.code(202).send({ id: request.params.id, status: 'compensating' });
    },
  );
};
