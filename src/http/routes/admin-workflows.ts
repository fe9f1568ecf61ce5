import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SagaNotParkedError } from '../../kernel/saga/saga-orchestrator.ts';
import type { SagaRecord } from '../../kernel/saga/saga.ts';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';
import type { Subjects, WorkflowService } from '../../services/workflows/workflow-service.ts';
import { NotFoundError, requireAdmin } from '../auth.ts';
import { PROBLEM_BASE, sendProblem } from '../problem.ts';
import { problem } from '../problem-schema.ts';

const workflowStatus = z.enum(['running', 'completed', 'compensating', 'compensated', 'compensation_failed']);

const step = z.object({
  name: z.string(),
  phase: z.enum(['run', 'compensate']),
  status: z.enum(['started', 'completed', 'failed']),
  startedAt: z.string().optional(),
  completedAt: z.string().optional(),
  attempts: z.int(),
  error: z.string().optional(),
});

const workflow = z.object({
  id: z.string(),
  type: z.string(),
  status: workflowStatus.describe(
    'compensation_failed = parked: tried again on a growing backoff, or now with POST .../retry',
  ),
  customerId: z.string().optional(),
  subscriptionId: z.string().optional(),
  paymentId: z.string().optional(),
  startedAt: z.string(),
  updatedAt: z.string(),
  attempts: z.int().describe('times its compensation kept failing and it was parked'),
  nextAttemptAt: z.string().nullable().optional(),
  lastError: z.string().nullable().optional(),
  steps: z.array(step),
});

const envelope = z.object({
  id: z.string(),
  type: z.string(),
  schemaVersion: z.int(),
  streamId: z.string(),
  version: z.int(),
  position: z.number(),
  txId: z.string(),
  occurredAt: z.string(),
  partitionKey: z.string(),
  data: z.unknown(),
  metadata: z.object({ correlationId: z.string(), causationId: z.string().nullable(), actor: z.string() }),
});

/** The customer, subscription and payment a workflow is about, when its state names them. */
const subjectsOf = ({
  customerId,
  subscriptionId,
  paymentId,
}: Subjects): Pick<Subjects, 'customerId' | 'subscriptionId' | 'paymentId'> => ({
  ...(customerId ? { customerId } : {}),
  ...(subscriptionId ? { subscriptionId } : {}),
  ...(paymentId ? { paymentId } : {}),
});

const iso = (date: Date | null) => date?.toISOString();

export const workflowJson = (record: SagaRecord) => ({
  id: record.id,
  type: record.type,
  status: record.status,
  ...subjectsOf(record.state as Subjects),
  startedAt: record.createdAt.toISOString(),
  updatedAt: record.updatedAt.toISOString(),
  attempts: record.attempts,
  nextAttemptAt: iso(record.nextAttemptAt) ?? null,
  lastError: record.lastError,
  steps: record.steps.map((s) => ({
    name: s.step,
    phase: s.phase,
    status: s.status,
    ...(s.startedAt ? { startedAt: s.startedAt.toISOString() } : {}),
    ...(s.finishedAt && s.status === 'completed' ? { completedAt: s.finishedAt.toISOString() } : {}),
    attempts: s.attempts,
    ...(s.error ? { error: s.error } : {}),
  })),
});

const envelopeJson = (event: RecordedEvent) => ({ ...event, occurredAt: event.occurredAt.toISOString() });

/** The durable workflows (registrations, renewals, refunds, erasures) for operators: list, one with its history, retry a parked one. */
export const adminWorkflowRoutes = (workflows: WorkflowService) => (app: FastifyInstance) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const params = z.object({ id: z.string().min(1).max(64) });

  api.get(
    '/admin/workflows',
    {
      schema: {
        tags: ['admin'],
        summary: 'Workflows with their steps, newest first',
        security: [{ bearer: [] }],
        querystring: z.object({
          status: workflowStatus.optional(),
          type: z.string().min(1).max(64).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
          cursor: z.string().min(1).max(64).optional().describe('nextCursor of the previous page'),
        }),
        response: {
          200: z.object({ items: z.array(workflow), nextCursor: z.string().nullable() }),
          400: problem,
          401: problem,
        },
      },
    },
    async (request) => {
      requireAdmin(request);
      const { items, nextCursor } = await workflows.list(request.query);
      return { items: items.map(workflowJson), nextCursor };
    },
  );

  api.get(
    '/admin/workflows/:id',
    {
      schema: {
        tags: ['admin'],
        summary: 'One workflow, its steps and its history (the events it appended and those about it)',
        security: [{ bearer: [] }],
        params,
        response: { 200: workflow.extend({ history: z.array(envelope) }), 401: problem, 404: problem },
      },
    },
    async (request) => {
      requireAdmin(request);
      const found = await workflows.get(request.params.id);
      if (!found) throw new NotFoundError(`no workflow ${request.params.id}`);
      return { ...workflowJson(found.workflow), history: found.history.map(envelopeJson) };
    },
  );

  api.post(
    '/admin/workflows/:id/retry',
    {
      schema: {
        tags: ['admin'],
        summary:
          'Run a parked workflow (compensation_failed) again now; recorded as WorkflowRetried with the admin as actor',
        security: [{ bearer: [] }],
        params,
        response: {
          202: z.object({ id: z.string(), status: workflowStatus }),
          401: problem,
          404: problem,
          409: problem,
        },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      const { id } = request.params;
      try {
        const status = await workflows.retry(id, { correlationId: String(request.id), actor: 'admin' });
        return reply.code(202).send({ id, status });
      } catch (error) {
        if (!(error instanceof SagaNotParkedError)) throw error;
        if (!(await workflows.get(id))) throw new NotFoundError(`no workflow ${id}`);
        return sendProblem(reply, {
          type: `${PROBLEM_BASE}workflow-not-parked`,
          title: 'Workflow not parked',
          status: 409,
          detail: error.message,
        });
      }
    },
  );
};
