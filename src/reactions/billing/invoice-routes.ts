import { billTo } from './bill-to.ts';
import type { EventStore } from '../../kernel/store/event-store.ts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { NotFoundError, requireOwner, requirePrincipal } from '../../http/auth.ts';
import type { Database } from '../../kernel/db/database.ts';
import { renderInvoicePdf } from './invoice-pdf.ts';
import { findInvoice, listInvoices, type Invoice } from './invoices.ts';
import { problem } from '../../http/problem-schema.ts';
import { instant } from '../../http/input-schemas.ts';
import { InvalidRequestError } from '../../http/invalid-request.ts';

export const invoiceView = z.object({
  id: z.string(),
  number: z.string().describe('sequential per year, no gaps: INV-2026-000001'),
  paymentId: z.string(),
  customerId: z.string(),
  subscriptionId: z.string().nullable(),
  purpose: z.enum(['registration', 'renewal']),
  periodIndex: z.int(),
  planId: z.string(),
  lines: z.array(
    z.object({
      description: z.string(),
      planId: z.string(),
      period: z.object({ start: z.string(), end: z.string() }),
      quantity: z.int(),
      unitAmount: z.int(),
      amount: z.int(),
    }),
  ),
  currency: z.string(),
  subtotal: z.int().describe('minor units, net of tax'),
  tax: z.int().describe('minor units, included in the total'),
  taxRateBps: z.int(),
  total: z.int().describe('minor units: the amount charged'),
  status: z.literal('paid'),
  paymentReference: z.string(),
  paymentMethod: z.object({ brand: z.string(), last4: z.string() }),
  issuedAt: z.string(),
  createdAt: z.string(),
});

const listQuery = z.object({
  customerId: z
    .uuid()
    .optional()
    .describe("the customer's invoices (a customer token sees only its own; the admin sees all when omitted)"),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z
    .string()
    .max(200)
    .regex(/^[A-Za-z0-9_-]+$/, 'cursor: as returned in nextCursor')
    .optional()
    .describe('the nextCursor of the previous page'),
});

const params = z.object({ id: z.string().min(1).max(64).describe('invoice id (UUID) or number (INV-2026-000001)') });

const cursorOf = (invoice: Invoice) =>
  Buffer.from(JSON.stringify({ issuedAt: invoice.issuedAt, number: invoice.number })).toString('base64url');
// A cursor comes back from the client: its parts are checked like any other input.
const cursorKey = z.object({ issuedAt: instant, number: z.string().regex(/^INV-\d{4}-\d{6,12}$/) }).strict();
const parseCursor = (cursor: string): { issuedAt: string; number: string } => {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  const parsed = cursorKey.safeParse(value);
  if (!parsed.success) throw new InvalidRequestError('cursor: not a cursor this API gave out', 'cursor');
  return parsed.data;
};

/** GET /invoices, /invoices/{id}, /invoices/{id}.pdf: the admin, or the customer the invoice is for. */
export const invoiceRoutes = (deps: { db: Database; store: EventStore }) => (app: FastifyInstance) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const load = async (id: string, request: Parameters<typeof requireOwner>[0]): Promise<Invoice> => {
    const invoice = await findInvoice(deps.db, id);
    requireOwner(request, invoice?.customerId);
    if (!invoice) throw new NotFoundError(`no invoice ${id}`);
    return invoice;
  };

  api.get(
    '/invoices',
    {
      schema: {
        tags: ['billing'],
        summary: 'Invoices in issue order; a customer token lists its own',
        security: [{ bearer: [] }],
        querystring: listQuery,
        response: {
          200: z.object({ invoices: z.array(invoiceView), nextCursor: z.string().nullable() }),
          400: problem,
          401: problem,
          404: problem,
        },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request);
      const customerId = request.query.customerId ?? (principal.kind === 'customer' ? principal.customerId : undefined);
      if (customerId !== undefined) requireOwner(request, customerId);
      const after = request.query.cursor === undefined ? undefined : parseCursor(request.query.cursor);
      const invoices = await listInvoices(deps.db, { customerId, limit: request.query.limit, after });
      return {
        invoices,
        nextCursor: invoices.length === request.query.limit ? cursorOf(invoices[invoices.length - 1]!) : null,
      };
    },
  );

  api.get(
    '/invoices/:id.pdf',
    {
      schema: {
        tags: ['billing'],
        summary: 'The invoice as a PDF (application/pdf)',
        security: [{ bearer: [] }],
        params,
        response: { 401: problem, 404: problem },
      },
    },
    async (request, reply) => {
      const invoice = await load(request.params.id, request);
      const pdf = await renderInvoicePdf(invoice, await billTo(deps.store, deps.db, invoice.customerId));
      // A Buffer goes out as it is; the declared responses (problems) type only the errors.
      return reply
        .type('application/pdf')
        .header('content-disposition', `inline; filename="${invoice.number}.pdf"`)
        .header('cache-control', 'no-store')
        .send(pdf as never);
    },
  );

  api.get(
    '/invoices/:id',
    {
      schema: {
        tags: ['billing'],
        summary: 'An invoice',
        security: [{ bearer: [] }],
        params,
        response: { 200: invoiceView, 401: problem, 404: problem },
      },
    },
    async (request) => load(request.params.id, request),
  );
};
