import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { VerifyOptions } from '../../verify/verify.ts';
import type { VerifyReport } from '../../verify/violation.ts';
import { requireAdmin } from '../auth.ts';
import { problem } from '../problem-schema.ts';

const id = z.string().optional();
const violation = z.object({
  kind: z.string(),
  message: z.string(),
  chargeId: id,
  paymentId: id,
  customerId: id,
  subscriptionId: id,
  registrationId: id,
  idempotencyKey: id,
  currency: id,
});

export const DEFAULT_SETTLE_MS = 10_000;

/** The money invariants as code (the same checks as `tributary verify`). */
export const adminVerifyRoutes =
  (deps: { verify: (options: VerifyOptions) => Promise<VerifyReport> }) => (app: FastifyInstance) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    api.get(
      '/admin/verify',
      {
        schema: {
          tags: ['admin'],
          summary:
            'Check the money invariants against the gateway and the event store; 200 with ok=false and the violations when any',
          security: [{ bearer: [] }],
          querystring: z.object({
            settleMs: z.coerce
              .number()
              .int()
              .min(0)
              .max(60_000)
              .default(DEFAULT_SETTLE_MS)
              .describe('how long to let consumers and workflows catch up before a violation counts'),
          }),
          response: {
            200: z.object({ ok: z.boolean(), checkedAt: z.string(), violations: z.array(violation) }),
            400: problem,
            401: problem,
          },
        },
      },
      async (request) => {
        requireAdmin(request);
        return deps.verify({ settleMs: request.query.settleMs });
      },
    );
  };
