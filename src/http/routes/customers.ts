import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { EventStore } from '../../kernel/store/event-store.ts';
import { loadCustomer } from '../../services/subscriptions/subscription-streams.ts';
import type { SubscriptionService } from '../../services/subscriptions/subscription-service.ts';
import { NotFoundError, requireAdmin, requireOwner } from '../auth.ts';
import type { ErasureService } from '../../services/customers/erasure.ts';
import { UnknownPaymentMethodTokenError } from '../../services/registration/registration-service.ts';
import { problem } from '../problem-schema.ts';
import type { TokenRevocation } from '../token-revocation.ts';

const params = z.object({ id: z.string().max(64) });

/** Customer writes (erasure, payment method); reads are the Customer API of the customer view (src/views/customers). */
export const customerRoutes =
  (deps: {
    store: EventStore;
    erasure: ErasureService;
    subscriptions: SubscriptionService;
    isKnownPaymentMethod: (token: string) => boolean;
    revocation: TokenRevocation;
  }) =>
  (app: FastifyInstance) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    const load = async (id: string, request: Parameters<typeof requireOwner>[0]) => {
      const customer = await loadCustomer(deps.store, id);
      requireOwner(request, customer.status === 'none' ? undefined : customer.customerId);
      if (customer.status === 'none' || customer.status === 'deleted') throw new NotFoundError(`no customer ${id}`);
      return customer;
    };

    api.post(
      '/customers/:id/erase',
      {
        schema: {
          tags: ['customers'],
          summary:
            'Erase a customer (right to be forgotten), as a durable workflow: its subscriptions are cancelled now, its key is deleted (crypto-shredding) and CustomerDeleted (reason erasure) revokes its tokens; repeating it changes nothing',
          security: [{ bearer: [] }],
          params,
          response: {
            200: z.object({
              customerId: z.string(),
              keyDeleted: z.boolean(),
              deletedPosition: z.number().nullable(),
              cancelledSubscriptions: z.array(z.string()),
            }),
            401: problem,
            404: problem,
          },
        },
      },
      async (request) => {
        requireAdmin(request);
        const result = await deps.erasure.erase(request.params.id, {
          correlationId: String(request.id),
          actor: 'admin',
        });
        deps.revocation.revoke(request.params.id);
        return result;
      },
    );

    api.put(
      '/customers/:id/payment-method',
      {
        schema: {
          tags: ['customers'],
          summary: 'The payment method renewals are charged to (a token, never a card number)',
          security: [{ bearer: [] }],
          params,
          body: z.object({ paymentMethod: z.string().min(1).max(255) }).strict(),
          response: {
            200: z.object({ customerId: z.string(), paymentMethod: z.string() }),
            400: problem,
            401: problem,
            404: problem,
            422: problem,
          },
        },
      },
      async (request) => {
        await load(request.params.id, request);
        if (!deps.isKnownPaymentMethod(request.body.paymentMethod))
          throw new UnknownPaymentMethodTokenError(`unknown payment method token: ${request.body.paymentMethod}`);
        await deps.subscriptions.setPaymentMethod(request.params.id, request.body.paymentMethod);
        return { customerId: request.params.id, paymentMethod: request.body.paymentMethod };
      },
    );
  };
