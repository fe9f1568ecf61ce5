import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from '../kernel/logger.ts';
import { registerProblemHandlers } from './problem.ts';
import { registerTracing, requestId, requestLogBindings } from './tracing.ts';
import { operationsRoutes, type ReadinessCheck } from './routes/operations.ts';

export type App = FastifyInstance & { withTypeProvider: FastifyInstance['withTypeProvider'] };

export interface HttpDeps {
  log: Logger;
  checks: ReadinessCheck[];
  asyncApi: () => object;
  /** Hooks that must be in place before any route (authentication). */
  configure?: (app: FastifyInstance) => void;
  /** More routes (the services'), registered after the documentation plugins. */
  routes?: ((app: FastifyInstance) => void)[];
}

/** The Fastify app: zod-validated routes, OpenAPI 3.1 at /openapi.json, docs at /docs, problem+json errors. */
export async function buildHttpApp(deps: HttpDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
    // Ids unique across processes (not `req-1` at every start); a client's own id is not trusted as one.
    requestIdHeader: false,
    genReqId: requestId,
    childLoggerFactory: (logger, bindings, options, raw) => logger.child({ ...bindings, ...requestLogBindings(raw as never) }, options),
  }).withTypeProvider<ZodTypeProvider>();
  registerTracing(app);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerProblemHandlers(app);
  // Limits apply only to routes that ask for one (POST /register).
  await app.register(fastifyRateLimit, { global: false });
  deps.configure?.(app);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Tributary API', version: '1.0.0', description: 'Event-driven subscription platform' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  operationsRoutes(app, deps);
  for (const routes of deps.routes ?? []) routes(app);
  return app;
}
