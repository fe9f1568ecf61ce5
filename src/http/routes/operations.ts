import type { FastifyInstance } from 'fastify';
import { registry } from '../../kernel/metrics.ts';
import { bearerIs, UnauthorizedError } from '../auth.ts';
import { sendProblem } from '../problem.ts';

export interface ReadinessCheck {
  name: string;
  check(): Promise<boolean>;
}

/** Liveness, readiness, metrics and the event documentation. */
export function operationsRoutes(
  app: FastifyInstance,
  deps: { checks: ReadinessCheck[]; asyncApi: () => object; metricsToken?: string },
): void {
  app.get('/health', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/ready', { schema: { hide: true } }, async (_request, reply) => {
    const results = await Promise.all(
      deps.checks.map(async ({ name, check }) => [name, await check().catch(() => false)] as const),
    );
    const checks = Object.fromEntries(results.map(([name, ok]) => [name, ok ? 'up' : 'down']));
    if (results.every(([, ok]) => ok)) return { status: 'ready', checks };
    return sendProblem(reply, {
      type: 'https://tributary.dev/problems/not-ready',
      title: 'Not ready',
      status: 503,
      detail: `down: ${results
        .filter(([, ok]) => !ok)
        .map(([name]) => name)
        .join(', ')}`,
      checks,
    });
  });

  // Event counts, lag and saga outcomes are the operator's: the admin token or METRICS_TOKEN.
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (
      request.principal?.kind !== 'admin' &&
      !(deps.metricsToken && bearerIs(request.headers.authorization, deps.metricsToken))
    ) {
      throw new UnauthorizedError('this needs the admin token or METRICS_TOKEN');
    }
    return reply.type(registry.contentType).send(await registry.metrics());
  });

  app.get('/asyncapi.json', { schema: { hide: true } }, async () => deps.asyncApi());
}
