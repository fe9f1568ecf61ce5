import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { PlanCatalog } from '../../services/plans/index.ts';
import { NotFoundError } from '../auth.ts';

const plan = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  amount: z.int().describe('price in minor units'),
  currency: z.string().describe('ISO 4217'),
  interval: z.enum(['month', 'year']),
});

/** The plan catalog: public, where every client starts. */
export const plansRoutes = (plans: PlanCatalog) => (app: FastifyInstance) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.get(
    '/plans',
    { schema: { tags: ['plans'], summary: 'List the plans', response: { 200: z.object({ plans: z.array(plan) }) } } },
    async () => ({ plans: [...plans.list()] }),
  );
  api.get(
    '/plans/:id',
    {
      schema: {
        tags: ['plans'],
        summary: 'One plan',
        params: z.object({ id: z.string().max(64) }),
        response: { 200: plan },
      },
    },
    async (request) => {
      const found = plans.get(request.params.id);
      if (!found) throw new NotFoundError(`no plan ${request.params.id}`);
      return found;
    },
  );
};
