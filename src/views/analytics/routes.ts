import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireAdmin } from '../../http/auth.ts';
import { InvalidRequestError } from '../../http/invalid-request.ts';
import { minPositionHeaders, minPositionOf, minPositionQuery } from '../../http/min-position.ts';
import type { ViewDeps } from '../view-module.ts';
import { calendarDate, calendarMonth } from '../../http/input-schemas.ts';
import { bucketCount } from './buckets.ts';
import { analyticsCohorts } from './cohorts.ts';
import { analyticsSummary } from './summary.ts';
import { analyticsTimeSeries } from './timeseries.ts';
import { problem } from '../../http/problem-schema.ts';

/** More points than a chart can show is a mistake in the request (a year of days fits). */
export const MAX_BUCKETS = 400;

const PIPELINE_LAG =
  'signups, cancellations and mrr (and the cohorts) come from the analytics pipeline, which follows the bus: minPosition waits for the projection only, so they lag behind by the bus latency (usually well under a second).';

const money = z.object({ currency: z.string(), amount: z.int().describe('integer minor units') });
const date = calendarDate;
const month = calendarMonth;
const DAY_MS = 86_400_000;
/** Without from/to, a series covers the last 30 days (today included). */
const DEFAULT_DAYS = 30;

const summary = z.object({
  asOf: z.string().describe('the platform clock when the summary was computed'),
  window: z
    .object({ from: z.string(), to: z.string(), firstDay: z.string(), lastDay: z.string() })
    .describe('the last 30 days: the 30 UTC calendar days ending today, from midnight of the first to now'),
  activeSubscriptions: z
    .object({
      total: z.int(),
      byPlan: z.array(z.object({ planId: z.string(), planName: z.string().nullable(), count: z.int() })),
    })
    .describe('subscriptions not ended: a cancellation at period end keeps one active until its period ends'),
  mrr: z
    .array(money)
    .describe(
      'monthly recurring revenue per currency: monthly prices, and yearly prices / 12 rounded to the nearest minor unit (halves up) per subscription',
    ),
  arr: z.array(money).describe('annual recurring revenue: MRR × 12'),
  signups: z.int().describe('customers registered in the window'),
  cancellations: z
    .int()
    .describe('subscriptions whose (first) cancellation was requested in the window, whenever it takes effect'),
  churn: z
    .object({ rate: z.number().nullable(), activeAtWindowStart: z.int(), churned: z.int() })
    .describe(
      'churn rate = churned / activeAtWindowStart: of the subscriptions active at the window start (started before it, not ended before it), the share that ended (took effect) by now; null when none were active',
    ),
  revenue: z.array(money).describe('captured minus refunded in the window, per currency'),
});

const series = z.object({
  metric: z.enum(['signups', 'cancellations', 'mrr', 'revenue']),
  interval: z.enum(['day', 'week', 'month']),
  from: z.string(),
  to: z.string(),
  series: z.array(
    z.object({
      currency: z.string().nullable().describe('null for a count; one series per currency for money'),
      points: z.array(z.object({ start: z.string(), end: z.string().describe('exclusive'), value: z.number() })),
    }),
  ),
});

const cohorts = z.object({
  asOf: z.string(),
  cohorts: z.array(
    z.object({
      month: z.string(),
      customers: z.int(),
      retention: z.array(
        z.object({ monthsAfterSignup: z.int(), observed: z.int(), retained: z.int(), rate: z.number() }),
      ),
    }),
  ),
});

/** The Analytics API (admin token only). */
export const analyticsRoutes = (deps: ViewDeps) => (app: FastifyInstance) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const planName = (planId: string) => deps.plans.get(planId)?.name ?? null;

  api.get(
    '/analytics/summary',
    {
      schema: {
        tags: ['analytics'],
        summary:
          'Active subscriptions by plan, MRR and ARR per currency, signups, cancellations and churn rate over the last 30 days',
        description: 'Read from the analytics projection alone: exact once it has reached minPosition.',
        security: [{ bearer: [] }],
        headers: minPositionHeaders,
        querystring: z.object({ ...minPositionQuery }).strict(),
        response: { 200: summary, 400: problem, 401: problem, 503: problem },
      },
    },
    async (request) => {
      requireAdmin(request);
      await deps.waitForPosition(minPositionOf(request));
      return analyticsSummary(deps.db, deps.schema, deps.clock.now(), planName);
    },
  );

  api.get(
    '/analytics/timeseries',
    {
      schema: {
        tags: ['analytics'],
        summary: 'A metric per day, ISO week or month between two dates (default: the last 30 days, by day)',
        description: `Buckets cover from … to (both included, UTC days; weeks start on Monday), at most ${MAX_BUCKETS}. signups: customers registered; cancellations: subscriptions by the day their cancellation was requested; mrr: MRR at each bucket's end (or now), per currency; revenue: captured minus refunded, per currency (from the projection). ${PIPELINE_LAG}`,
        security: [{ bearer: [] }],
        headers: minPositionHeaders,
        querystring: z
          .object({
            metric: z.enum(['signups', 'cancellations', 'mrr', 'revenue']),
            from: date.optional().describe(`first day, YYYY-MM-DD (default: ${DEFAULT_DAYS - 1} days before to)`),
            to: date.optional().describe('last day (included), YYYY-MM-DD (default: today)'),
            interval: z.enum(['day', 'week', 'month']).default('day'),
            ...minPositionQuery,
          })
          .strict(),
        response: { 200: series, 400: problem, 401: problem, 503: problem },
      },
    },
    async (request) => {
      requireAdmin(request);
      const { metric, interval } = request.query;
      const to = request.query.to ?? deps.clock.now().toISOString().slice(0, 10);
      const from =
        request.query.from ?? new Date(Date.parse(to) - (DEFAULT_DAYS - 1) * DAY_MS).toISOString().slice(0, 10);
      if (from > to) throw new InvalidRequestError('from must not be after to', 'from');
      if (bucketCount(from, to, interval) > MAX_BUCKETS)
        throw new InvalidRequestError(
          `at most ${MAX_BUCKETS} ${interval} buckets: narrow from … to or use a longer interval`,
          'to',
        );
      await deps.waitForPosition(minPositionOf(request));
      return analyticsTimeSeries(deps.db, deps.schema, { metric, from, to, interval }, deps.clock.now());
    },
  );

  api.get(
    '/analytics/cohorts',
    {
      schema: {
        tags: ['analytics'],
        summary: 'Monthly signup cohorts and their retention by month',
        description: `Retention k months after signup: the share of a cohort's customers with a subscription started and not churned at signup time + k calendar months, among those whose k-th month has passed. ${PIPELINE_LAG}`,
        security: [{ bearer: [] }],
        headers: minPositionHeaders,
        querystring: z
          .object({
            from: month.optional().describe('first cohort, YYYY-MM'),
            to: month.optional().describe('last cohort, YYYY-MM'),
            ...minPositionQuery,
          })
          .strict(),
        response: { 200: cohorts, 400: problem, 401: problem, 503: problem },
      },
    },
    async (request) => {
      requireAdmin(request);
      const { from, to } = request.query;
      if (from && to && from > to) throw new InvalidRequestError('from must not be after to', 'from');
      await deps.waitForPosition(minPositionOf(request));
      const now = deps.clock.now();
      return { asOf: now.toISOString(), cohorts: await analyticsCohorts(deps.db, now, { from, to }) };
    },
  );
};
