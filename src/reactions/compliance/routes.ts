import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../kernel/db/database.ts';
import { requireAdmin } from '../../http/auth.ts';
import type { ClockDrivenJob } from '../../kernel/clock-driven-job.ts';
import { listFindings } from './obligations.ts';
import { problem } from '../../http/problem-schema.ts';

const kind = z.enum(['no_charge_after_cancellation', 'cancellation_took_effect', 'data_retention']);
const status = z.enum(['pending', 'passed', 'violated']);

const finding = z.object({
  id: z.string(),
  kind,
  customerId: z.string(),
  subscriptionId: z.string().nullable(),
  cancellationEventId: z.string(),
  effectiveAt: z.string(),
  atPeriodEnd: z.boolean(),
  dueAt: z.string(),
  status,
  checkedAt: z.string().nullable(),
  evidence: z.record(z.string(), z.unknown()).nullable(),
});

/** The compliance findings (admin): obligations checked when due (pending ones with status=pending). */
export const complianceRoutes = (deps: { db: Database; checker: ClockDrivenJob }) => (app: FastifyInstance) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.get(
    '/compliance/findings',
    {
      schema: {
        tags: ['compliance'],
        summary:
          'Compliance findings: the obligations cancellations created, passed or violated with evidence (checks due by the clock run first)',
        security: [{ bearer: [] }],
        querystring: z.object({
          status: status.optional().describe('default: passed and violated (checked) findings'),
          kind: kind.optional(),
          customerId: z.string().max(64).optional(),
          subscriptionId: z.string().max(64).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
        response: { 200: z.object({ findings: z.array(finding), violations: z.int() }), 400: problem, 401: problem },
      },
    },
    async (request) => {
      requireAdmin(request);
      await deps.checker.catchUp();
      const all = await listFindings(deps.db, {
        ...request.query,
        limit: request.query.status ? request.query.limit : request.query.limit * 2,
      });
      const findings = (request.query.status ? all : all.filter((f) => f.status !== 'pending')).slice(
        0,
        request.query.limit,
      );
      return { findings, violations: findings.filter((f) => f.status === 'violated').length };
    },
  );
};
