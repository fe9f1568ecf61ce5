import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../kernel/logger.ts';
import { registerProblemHandlers } from './problem.ts';
import { operationsRoutes, type ReadinessCheck } from './routes/operations.ts';

export interface HttpDeps {
  log: Logger;
  checks: ReadinessCheck[];
  asyncApi: () => object;
}

export function buildHttpApp(deps: HttpDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
    // Correlation ids travel from the request into events and logs.
    requestIdHeader: 'x-request-id',
  });
  registerProblemHandlers(app);
  operationsRoutes(app, deps);
  return app;
}
