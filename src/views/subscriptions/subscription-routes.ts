import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ChurnFeatures } from '../../domain/churn/churn-features.ts';
import { planId } from '../../domain/events/common.ts';
import { NotFoundError, requireOwner, requirePrincipal } from '../../http/auth.ts';
import { minPositionHeaders, minPositionOf, minPositionQuery } from '../../http/min-position.ts';
import type { Sql } from '../../kernel/db/database.ts';
import { decodeCursor, pageOf, pageQuery, type PageKey } from '../page-cursor.ts';
import type { ViewDeps } from '../view-module.ts';
import type { SubscriptionRow } from './subscription-projection.ts';
import { problem } from '../../http/problem-schema.ts';

const status = z.enum(['active', 'past_due', 'cancelled', 'ended']);
const DAY_MS = 86_400_000;

export const subscriptionDetails = z.object({
  subscriptionId: z.string(),
  customerId: z.string(),
  planId: z.string(),
  status,
  price: z.object({ amount: z.int(), currency: z.string() }),
  interval: z.enum(['month', 'year']),
  periodIndex: z.int(),
  currentPeriod: z.object({ start: z.string(), end: z.string() }),
  cancelAt: z.string().nullable().describe('when a cancellation at period end takes effect'),
  cancellation: z
    .object({ reason: z.string(), atPeriodEnd: z.boolean(), requestedAt: z.string(), effectiveAt: z.string() })
    .nullable(),
  renewals: z.int(),
  failedPayments: z.int().describe('declined renewal charges so far (each dunning attempt counts)'),
  lastPayment: z
    .object({
      paymentId: z.string(),
      amount: z.int(),
      currency: z.string(),
      at: z.string(),
      status: z.enum(['processed', 'failed', 'refunded', 'partially_refunded']),
      refunded: z.int(),
    })
    .nullable()
    .describe('the registration charge until the first renewal'),
  createdAt: z.string(),
  endedAt: z.string().nullable(),
  churnRisk: z
    .number()
    .min(0)
    .max(1)
    .nullable()
    .describe(
      'probability the subscription churns, from the current churn model; null when it is over or no model is trained',
    ),
});

type Time = 'period_start' | 'period_end' | 'created_at';
type OptionalTime =
  'cancel_at' | 'cancellation_requested_at' | 'cancellation_effective_at' | 'last_payment_at' | 'ended_at';
/** A row as the drivers read it: times are Dates. */
type Stored = Omit<SubscriptionRow, Time | OptionalTime> & Record<Time, Date> & Record<OptionalTime, Date | null>;

const isoOrNull = (value: Date | null) => value?.toISOString() ?? null;

/** What the churn model knows of a subscription now (the ML helper builds the same at each renewal and cancellation). */
export function churnFeatures(row: Stored, now: Date): ChurnFeatures {
  return {
    planId: row.plan_id,
    priceAmount: row.price_amount,
    currency: row.currency,
    interval: row.interval,
    tenurePeriods: 1 + row.renewals,
    renewals: row.renewals,
    failedPayments: row.failed_payments,
    daysSinceSignup: Math.max(0, Math.floor((now.getTime() - row.created_at.getTime()) / DAY_MS)),
  };
}

function toView(row: Stored, churnRisk: number | null): z.infer<typeof subscriptionDetails> {
  const lastPayment =
    row.last_payment_id &&
    row.last_payment_amount !== null &&
    row.last_payment_currency &&
    row.last_payment_at &&
    row.last_payment_status
      ? {
          paymentId: row.last_payment_id,
          amount: row.last_payment_amount,
          currency: row.last_payment_currency,
          at: row.last_payment_at.toISOString(),
          status: row.last_payment_status,
          refunded: row.last_payment_refunded,
        }
      : null;
  const cancellation =
    row.cancellation_reason !== null &&
    row.cancellation_at_period_end !== null &&
    row.cancellation_requested_at &&
    row.cancellation_effective_at
      ? {
          reason: row.cancellation_reason,
          atPeriodEnd: row.cancellation_at_period_end,
          requestedAt: row.cancellation_requested_at.toISOString(),
          effectiveAt: row.cancellation_effective_at.toISOString(),
        }
      : null;
  return {
    subscriptionId: row.subscription_id,
    customerId: row.customer_id,
    planId: row.plan_id,
    status: row.status,
    price: { amount: row.price_amount, currency: row.currency },
    interval: row.interval,
    periodIndex: row.period_index,
    currentPeriod: { start: row.period_start.toISOString(), end: row.period_end.toISOString() },
    cancelAt: isoOrNull(row.cancel_at),
    cancellation,
    renewals: row.renewals,
    failedPayments: row.failed_payments,
    lastPayment,
    createdAt: row.created_at.toISOString(),
    endedAt: isoOrNull(row.ended_at),
    churnRisk,
  };
}

interface ListFilter {
  /** A customer token lists only its own subscriptions. */
  ownerId: string | undefined;
  customerId: string | undefined;
  status: z.infer<typeof status> | undefined;
  planId: string | undefined;
  after: PageKey | undefined;
  limit: number;
}

async function listSubscriptions(db: Sql, schema: string, filter: ListFilter): Promise<Stored[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => (params.push(value), `$${params.length}`);
  if (filter.ownerId !== undefined) where.push(`customer_id = ${param(filter.ownerId)}`);
  if (filter.customerId !== undefined) where.push(`customer_id = ${param(filter.customerId)}`);
  if (filter.status !== undefined) where.push(`status = ${param(filter.status)}`);
  if (filter.planId !== undefined) where.push(`plan_id = ${param(filter.planId)}`);
  if (filter.after)
    where.push(
      `(created_at, subscription_id) > (${param(filter.after.createdAt)}::timestamptz, ${param(filter.after.id)})`,
    );
  const { rows } = await db.query<Stored>(
    `select * from ${schema}.subscriptions ${where.length ? `where ${where.join(' and ')}` : ''} order by created_at, subscription_id limit ${param(filter.limit + 1)}`,
    params,
  );
  return rows;
}

/**
 * The Subscription API, read from the subscription view only. The admin token reads every
 * subscription; a customer token reads its own alone: another's id is a 404, and the list is
 * always narrowed to its own subscriptions (asking for another customerId yields an empty page).
 */
export const subscriptionQueryRoutes = (deps: ViewDeps) => (app: FastifyInstance) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  // Only a subscription still running has a risk of churning.
  const riskOf = (row: Stored) =>
    row.status === 'active' || row.status === 'past_due'
      ? deps.churn.score(churnFeatures(row, deps.clock.now()))
      : null;

  api.get(
    '/subscriptions/:id',
    {
      schema: {
        tags: ['subscriptions'],
        summary:
          "A subscription: plan, status, current period, cancellation, renewals, last payment and churn risk; pass a write's position as minPosition to read your own write",
        security: [{ bearer: [] }],
        params: z.object({ id: z.uuid() }),
        querystring: z.object({ ...minPositionQuery }).strict(),
        headers: minPositionHeaders,
        response: { 200: subscriptionDetails, 400: problem, 401: problem, 404: problem, 503: problem },
      },
    },
    async (request) => {
      requirePrincipal(request);
      await deps.waitForPosition(minPositionOf(request));
      const { rows } = await deps.db.query<Stored>(
        `select * from ${deps.schema}.subscriptions where subscription_id = $1`,
        [request.params.id],
      );
      const row = rows[0];
      requireOwner(request, row?.customer_id);
      if (!row) throw new NotFoundError(`no subscription ${request.params.id}`);
      return toView(row, riskOf(row));
    },
  );

  api.get(
    '/subscriptions',
    {
      schema: {
        tags: ['subscriptions'],
        summary: 'Subscriptions, oldest first, a page at a time; a customer token lists only its own',
        security: [{ bearer: [] }],
        querystring: z
          .object({
            customerId: z.uuid().optional(),
            status: status.optional(),
            planId: planId.optional(),
            ...pageQuery,
            ...minPositionQuery,
          })
          .strict(),
        headers: minPositionHeaders,
        response: {
          200: z.object({ subscriptions: z.array(subscriptionDetails), nextCursor: z.string().nullable() }),
          400: problem,
          401: problem,
          503: problem,
        },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request);
      const { customerId, status: wanted, planId: plan, limit, cursor } = request.query;
      const after = decodeCursor(cursor);
      await deps.waitForPosition(minPositionOf(request));
      const rows = await listSubscriptions(deps.db, deps.schema, {
        ownerId: principal.kind === 'customer' ? principal.customerId : undefined,
        customerId,
        status: wanted,
        planId: plan,
        after,
        limit,
      });
      const page = pageOf(rows, limit, (row) => ({ createdAt: row.created_at.toISOString(), id: row.subscription_id }));
      return { subscriptions: page.rows.map((row) => toView(row, riskOf(row))), nextCursor: page.nextCursor };
    },
  );
};
