import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Sql } from '../../kernel/db/database.ts';
import { requireAdmin } from '../../http/auth.ts';
import { EMAIL_TYPES, listNotifications } from './notification-log.ts';
import { problem } from '../../http/problem-schema.ts';


const query = z
  .object({
    to: z.string().min(1).max(254).optional().describe('recipient address (case-insensitive)'),
    type: z.enum(EMAIL_TYPES).optional().describe('the consumer that sent it'),
    status: z.enum(['sent', 'suppressed']).optional().describe('suppressed: the customer was deleted or unknown'),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  .strict();

const notification = z.object({
  id: z.int(),
  eventId: z.string(),
  type: z.enum(EMAIL_TYPES),
  customerId: z.string(),
  to: z.string().nullable(),
  subject: z.string().nullable(),
  messageId: z.string(),
  status: z.enum(['sent', 'suppressed']),
  reason: z.string().nullable(),
  transport: z.enum(['smtp', 'mailbox']).nullable(),
  delivery: z.string().nullable().describe("the SMTP server's reply, or the mailbox file"),
  createdAt: z.string(),
});

/** The notification log (admin): every email the email consumers sent or suppressed, newest first. */
export const emailRoutes = (deps: { db: Sql }) => (app: FastifyInstance) => {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/emails',
    {
      schema: {
        tags: ['emails'],
        summary: 'The notification log: emails sent (or suppressed), newest first',
        security: [{ bearer: [] }],
        querystring: query,
        response: { 200: z.object({ emails: z.array(notification) }), 400: problem, 401: problem },
      },
    },
    async (request) => {
      requireAdmin(request);
      const emails = await listNotifications(deps.db, request.query);
      return { emails: emails.map((email) => ({ ...email, createdAt: email.createdAt.toISOString() })) };
    },
  );
};
