import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { NotFoundError, requireOwner, requirePrincipal } from '../../http/auth.ts';
import { minPositionHeaders, minPositionOf, minPositionQuery } from '../../http/min-position.ts';
import { emailDigest, normalizeEmail } from '../../kernel/crypto/keyed-hash.ts';
import { decryptMany, type PersonalData } from '../../kernel/crypto/personal-data.ts';
import type { Sql } from '../../kernel/db/database.ts';
import type { ViewDeps } from '../view-module.ts';
import type { CustomerRow } from './customer-projection.ts';
import { decodeCursor, pageOf, pageQuery } from '../page-cursor.ts';
import { problem } from '../../http/problem-schema.ts';

const status = z.enum(['pending', 'registered', 'deleted']);

export const customerView = z.object({
  customerId: z.string(),
  email: z
    .string()
    .nullable()
    .describe('lower case; null once the customer is deleted (erased customers show no personal data)'),
  name: z.string().nullable(),
  status,
  planId: z.string(),
  createdAt: z.string(),
  registeredAt: z.string().nullable(),
  deletedAt: z.string().nullable(),
  deletionReason: z.enum(['compensation', 'erasure']).nullable(),
});

/** X-Min-Position, the header form of `minPosition` (minPositionOf checks it). */

type Stored = Omit<CustomerRow, 'created_at' | 'registered_at' | 'deleted_at'> & {
  created_at: Date;
  registered_at: Date | null;
  deleted_at: Date | null;
};

const COLUMNS = 'customer_id, pii, status, plan_id, created_at, registered_at, deleted_at, deletion_reason';

const toView = (row: Stored, personal: PersonalData | null | undefined): z.infer<typeof customerView> => ({
  customerId: row.customer_id,
  email: personal ? normalizeEmail(personal.email) : null,
  name: personal?.name ?? null,
  status: row.status,
  planId: row.plan_id,
  createdAt: row.created_at.toISOString(),
  registeredAt: row.registered_at?.toISOString() ?? null,
  deletedAt: row.deleted_at?.toISOString() ?? null,
  deletionReason: row.deletion_reason,
});

interface ListFilter {
  /** A customer token lists only its own record. */
  ownerId: string | undefined;
  /** The keyed hash of the address asked for. */
  emailDigest: string | undefined;
  status: z.infer<typeof status> | undefined;
  after: { createdAt: string; id: string } | undefined;
  limit: number;
}

async function listCustomers(db: Sql, schema: string, filter: ListFilter): Promise<Stored[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => (params.push(value), `$${params.length}`);
  if (filter.ownerId !== undefined) where.push(`customer_id = ${param(filter.ownerId)}`);
  if (filter.emailDigest !== undefined) where.push(`email_digest = ${param(filter.emailDigest)}`);
  // Deleted customers are listed only when asked for by status.
  where.push(filter.status === undefined ? `status <> 'deleted'` : `status = ${param(filter.status)}`);
  if (filter.after)
    where.push(
      `(created_at, customer_id) > (${param(filter.after.createdAt)}::timestamptz, ${param(filter.after.id)})`,
    );
  const { rows } = await db.query<Stored>(
    `select ${COLUMNS} from ${schema}.customers where ${where.join(' and ')} order by created_at, customer_id limit ${param(filter.limit + 1)}`,
    params,
  );
  return rows;
}

/** Opens the rows' personal data at the edge, with one key query to the platform database. */
async function openRows(platformDb: Sql, rows: Stored[]): Promise<z.infer<typeof customerView>[]> {
  const sealed = rows.flatMap((row) => (row.pii ? [{ customerId: row.customer_id, pii: row.pii }] : []));
  const personal = await decryptMany(sealed, platformDb);
  return rows.map((row) => toView(row, personal.get(row.customer_id)));
}

/**
 * The Customer API, read from the customer view only. The admin token reads every customer; a
 * customer token reads its own record alone (another id is a 404, as if it did not exist; the list
 * holds at most itself). Deleted customers are 404 by id and listed only with `status=deleted`,
 * without personal data.
 */
export const customerQueryRoutes = (deps: ViewDeps) => (app: FastifyInstance) => {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/customers/:id',
    {
      schema: {
        tags: ['customers'],
        summary:
          "A customer (404 for an unknown or deleted one); pass the write's position as minPosition to read your own write",
        security: [{ bearer: [] }],
        params: z.object({ id: z.uuid() }),
        querystring: z.object({ ...minPositionQuery }).strict(),
        headers: minPositionHeaders,
        response: { 200: customerView, 400: problem, 401: problem, 404: problem, 503: problem },
      },
    },
    async (request) => {
      requirePrincipal(request);
      // Another customer's id: 404 at once, before (and whether or not) it exists.
      requireOwner(request, request.principal?.kind === 'customer' ? request.params.id : undefined);
      await deps.waitForPosition(minPositionOf(request));
      const { rows } = await deps.db.query<Stored>(
        `select ${COLUMNS} from ${deps.schema}.customers where customer_id = $1`,
        [request.params.id],
      );
      const row = rows[0];
      if (!row || row.status === 'deleted') throw new NotFoundError(`no customer ${request.params.id}`);
      return (await openRows(deps.platformDb, [row]))[0]!;
    },
  );

  api.get(
    '/customers',
    {
      schema: {
        tags: ['customers'],
        summary:
          'Customers, oldest first, a page at a time (a customer token lists only itself); deleted ones only with status=deleted',
        security: [{ bearer: [] }],
        querystring: z
          .object({
            email: z.email().max(254).optional().describe('exact address, any case'),
            status: status
              .optional()
              .describe('pending, registered or deleted; without it, every customer not deleted'),
            ...pageQuery,
            ...minPositionQuery,
          })
          .strict(),
        headers: minPositionHeaders,
        response: {
          200: z.object({ customers: z.array(customerView), nextCursor: z.string().nullable() }),
          400: problem,
          401: problem,
          503: problem,
        },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request);
      const { email, status: wanted, limit, cursor } = request.query;
      const after = decodeCursor(cursor);
      await deps.waitForPosition(minPositionOf(request));
      const rows = await listCustomers(deps.db, deps.schema, {
        ownerId: principal.kind === 'customer' ? principal.customerId : undefined,
        emailDigest: email === undefined ? undefined : await emailDigest(deps.platformDb, email),
        status: wanted,
        after,
        limit,
      });
      const page = pageOf(rows, limit, (row) => ({ createdAt: row.created_at.toISOString(), id: row.customer_id }));
      return { customers: await openRows(deps.platformDb, page.rows), nextCursor: page.nextCursor };
    },
  );
};
