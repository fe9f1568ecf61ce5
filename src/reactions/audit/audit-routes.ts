import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireAdmin } from '../../http/auth.ts';
import type { EventCatalog } from '../../kernel/catalog/catalog.ts';
import type { AuditLog } from './audit-log.ts';
import { problem } from '../../http/problem-schema.ts';
import { instant } from '../../http/input-schemas.ts';

export const auditRecordView = z.object({
  id: z.int(),
  eventId: z.string(),
  eventType: z.string(),
  subject: z.string(),
  streamId: z.string(),
  actor: z.string(),
  correlationId: z.string(),
  occurredAt: z.string(),
  summary: z.string(),
  prevHash: z.string(),
  hash: z.string(),
});

const listQuery = z.object({
  subject: z.string().min(1).max(200).optional().describe('customer id (or stream id) the records are about'),
  type: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe('event type (`PaymentProcessed`) or its topic (`payment.processed`)'),
  from: instant.optional().describe('event time, inclusive'),
  to: instant.optional().describe('event time, exclusive'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z
    .string()
    .regex(/^\d{1,15}$/, 'cursor: the nextCursor of the previous page')
    .optional(),
});

const verdict = z.union([
  z.object({ ok: z.literal(true), records: z.int() }),
  z.object({ ok: z.literal(false), brokenAt: z.int(), reason: z.string() }),
]);

export const auditRoutes = (deps: { audit: AuditLog; catalog: EventCatalog }) => (app: FastifyInstance) => {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'Audit records in chain order, filtered; page with `cursor` = the previous `nextCursor` (admin)',
        security: [{ bearer: [] }],
        querystring: listQuery,
        response: {
          200: z.object({ records: z.array(auditRecordView), nextCursor: z.string().nullable() }),
          400: problem,
          401: problem,
        },
      },
    },
    async (request) => {
      requireAdmin(request);
      const { subject, type, from, to, limit, cursor } = request.query;
      return deps.audit.list({
        subject,
        types: type === undefined ? undefined : [type, ...deps.catalog.typesOf([type])],
        from: from === undefined ? undefined : new Date(from),
        to: to === undefined ? undefined : new Date(to),
        limit,
        after: cursor === undefined ? undefined : Number(cursor),
      });
    },
  );

  api.get(
    '/audit/verify',
    {
      schema: {
        tags: ['audit'],
        summary: 'Recomputes the hash chain; names the first record whose hash or link does not match (admin)',
        security: [{ bearer: [] }],
        response: { 200: verdict, 401: problem },
      },
    },
    async (request) => {
      requireAdmin(request);
      return deps.audit.verify();
    },
  );
};
