import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Subscription } from '../../domain/subscription/decider.ts';
import type { SubscriptionService } from '../../services/subscriptions/subscription-service.ts';
import { NotFoundError, requireOwner } from '../auth.ts';
import { problem } from '../problem-schema.ts';
import { freeText } from '../input-schemas.ts';

export const subscriptionView = z.object({
  subscriptionId: z.string(),
  customerId: z.string(),
  planId: z.string(),
  status: z.enum(['active', 'past_due', 'cancelled', 'ended']),
  price: z.object({ amount: z.int(), currency: z.string() }),
  interval: z.enum(['month', 'year']),
  periodIndex: z.int(),
  currentPeriod: z.object({ start: z.string(), end: z.string() }),
  cancelAt: z.string().nullable(),
  cancellation: z
    .object({ reason: z.string(), atPeriodEnd: z.boolean(), requestedAt: z.string(), effectiveAt: z.string() })
    .nullable(),
  createdAt: z.string(),
});

const view = (state: Exclude<Subscription, { status: 'none' }>) => ({
  subscriptionId: state.subscriptionId,
  customerId: state.customerId,
  planId: state.planId,
  status: state.status,
  price: state.price,
  interval: state.interval,
  periodIndex: state.periodIndex,
  currentPeriod: state.currentPeriod,
  cancelAt: state.cancelAt,
  cancellation: state.cancellation,
  createdAt: state.createdAt,
});

const params = z.object({ id: z.string().max(64) });

/** Subscription writes (cancel); reads are the Subscription API of the subscription view (src/views/subscriptions). */
export const subscriptionRoutes = (subscriptions: SubscriptionService) => (app: FastifyInstance) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const load = async (id: string, request: Parameters<typeof requireOwner>[0]) => {
    const state = await subscriptions.get(id);
    requireOwner(request, state.status === 'none' ? undefined : state.customerId);
    if (state.status === 'none') throw new NotFoundError(`no subscription ${id}`);
    return state;
  };

  api.post(
    '/subscriptions/:id/cancel',
    {
      schema: {
        tags: ['subscriptions'],
        summary:
          'Cancel now or at the end of the paid period; no renewal is charged afterwards; repeating it changes nothing',
        security: [{ bearer: [] }],
        params,
        body: z.object({ atPeriodEnd: z.boolean(), reason: freeText(500).optional() }).strict(),
        response: {
          200: subscriptionView.extend({ position: z.number().nullable() }),
          400: problem,
          401: problem,
          404: problem,
        },
      },
    },
    async (request) => {
      await load(request.params.id, request);
      const actor = request.principal?.kind === 'customer' ? `customer:${request.principal.customerId}` : 'admin';
      const { subscription, position } = await subscriptions.cancel(request.params.id, request.body, {
        correlationId: String(request.id),
        actor,
      });
      return { ...view(subscription as Exclude<Subscription, { status: 'none' }>), position };
    },
  );
};
