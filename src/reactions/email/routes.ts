import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { emailDigest } from '../../kernel/crypto/keyed-hash.ts';
import type { Sql } from '../../kernel/db/database.ts';
import { NotFoundError, requireAdmin, requireOwner } from '../../http/auth.ts';
import { readMailboxMessage } from './mailbox-mailer.ts';
import { EMAIL_TYPES, findNotification, listCustomerNotifications, listNotifications } from './notification-log.ts';
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
  to: z.string().nullable().describe('null once the customer is erased'),
  subject: z.string().nullable(),
  messageId: z.string(),
  status: z.enum(['sent', 'suppressed']),
  reason: z.string().nullable(),
  transport: z.enum(['smtp', 'mailbox']).nullable(),
  delivery: z.string().nullable().describe("the SMTP server's reply, or the mailbox file"),
  createdAt: z.string(),
});

const customerEmail = z.object({
  id: z.int(),
  type: z.enum(EMAIL_TYPES),
  subject: z.string().nullable(),
  status: z.enum(['sent', 'suppressed']),
  createdAt: z.string(),
});

/**
 * The notification log (admin): every email the email consumers sent or suppressed, newest first,
 * its addresses opened with the customers' keys; and the mailbox's messages, opened the same way.
 * A customer reads the emails sent to them (GET /customers/{id}/emails), without the address.
 */
export const emailRoutes = (deps: { db: Sql; dataDir: string }) => (app: FastifyInstance) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.get(
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
      const { to, ...rest } = request.query;
      const toDigest = to === undefined ? undefined : await emailDigest(deps.db, to);
      const emails = await listNotifications(deps.db, { ...rest, toDigest });
      return { emails: emails.map((email) => ({ ...email, createdAt: email.createdAt.toISOString() })) };
    },
  );

  api.get(
    '/customers/:id/emails',
    {
      schema: {
        tags: ['emails'],
        summary: 'The emails sent to a customer, newest first, without the address; a customer token reads its own',
        security: [{ bearer: [] }],
        params: z.object({ id: z.uuid().describe('customer id') }),
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }).strict(),
        response: { 200: z.object({ emails: z.array(customerEmail) }), 400: problem, 401: problem, 404: problem },
      },
    },
    async (request) => {
      requireOwner(request, request.params.id);
      const emails = await listCustomerNotifications(deps.db, request.params.id, request.query.limit);
      return { emails: emails.map((email) => ({ ...email, createdAt: email.createdAt.toISOString() })) };
    },
  );

  api.get(
    '/emails/:id/message',
    {
      schema: {
        tags: ['emails'],
        summary:
          "A message of the local mailbox as an .eml (message/rfc822), opened with the customer's key; 404 once erased",
        security: [{ bearer: [] }],
        params: z.object({ id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }),
        response: { 200: z.string(), 400: problem, 401: problem, 404: problem },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      const notification = await findNotification(deps.db, request.params.id);
      const message =
        notification?.transport === 'mailbox' && notification.delivery
          ? await readMailboxMessage(deps.db, deps.dataDir, notification.delivery)
          : null;
      if (!message) throw new NotFoundError(`no readable mailbox message for email ${request.params.id}`);
      return reply.type('message/rfc822').header('cache-control', 'no-store').send(message.toString('utf8'));
    },
  );
};
