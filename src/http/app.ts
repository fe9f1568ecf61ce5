import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from '../kernel/logger.ts';
import { registerInputGuard } from './input-guard.ts';
import { registerSecurityHeaders } from './security-headers.ts';
import { frameworkProblem, registerProblemHandlers, writeClientErrorProblem } from './problem.ts';
import { registerStartingGate } from './starting-gate.ts';
import { registerTracing, requestId, requestLogBindings } from './tracing.ts';
import { operationsRoutes, type ReadinessCheck } from './routes/operations.ts';
import { loopDelay } from '../kernel/metrics.ts';

export type App = FastifyInstance & { withTypeProvider: FastifyInstance['withTypeProvider'] };

export interface HttpDeps {
  log: Logger;
  checks: ReadinessCheck[];
  asyncApi: () => object;
  /** A bearer token that reads /metrics besides the admin token. */
  metricsToken?: string;
  /** Hooks that must be in place before any route (authentication). */
  configure?: (app: FastifyInstance) => void;
  /** More routes (the services'), registered after the documentation plugins. */
  routes?: ((app: FastifyInstance) => void)[];
  /** Whether the store is ready: until then the routes that need it answer 503 (starting). */
  started?: () => boolean;
}

/**
 * The pages of this origin (the docs, the web front built by Vite) load scripts only from it;
 * Swagger UI and React set inline styles.
 */
const contentSecurityPolicy = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
    imgSrc: ["'self'", 'data:'],
    fontSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  },
};

/**
 * zod validates and serializes every route. Given at construction, Fastify never loads its
 * defaults, Ajv and fast-json-stringify (about 50 ms of each start). Fastify types these factories
 * for Ajv's JSON schemas; zod's compilers take the route's zod schemas.
 */
const zodCompilers = {
  buildValidator: () => validatorCompiler,
  buildSerializer: () => serializerCompiler,
} as unknown as NonNullable<FastifyServerOptions['schemaController']>['compilersFactory'];

/** The Fastify app: zod-validated routes, OpenAPI 3.1 at /openapi.json, docs at /docs, problem+json errors. */
export async function buildHttpApp(deps: HttpDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
    // Ids unique across processes (not `req-1` at every start); a client's own id is not trusted as one.
    requestIdHeader: false,
    genReqId: requestId,
    childLoggerFactory: (logger, bindings, options, raw) =>
      logger.child({ ...bindings, ...requestLogBindings(raw as never) }, options),
    // A bad URL (400) or an over-long path parameter (414) is problem+json like every other error.
    frameworkErrors: (error, request, reply) => frameworkProblem(error, request, reply),
    // Errors before any request exists (431 headers too large, 400 malformed): problem+json on the socket.
    clientErrorHandler: writeClientErrorProblem,
    schemaController: { compilersFactory: zodCompilers },
  }).withTypeProvider<ZodTypeProvider>();
  registerTracing(app);
  if (deps.started) registerStartingGate(app, deps.started);
  // A request is work: the event-loop delay is sampled while there is some.
  app.addHook('onRequest', (_request, _reply, done) => {
    loopDelay.wake();
    done();
  });
  // Bodies are JSON: a text/plain one is 415, not a string for the schema to refuse.
  app.removeContentTypeParser('text/plain');
  registerProblemHandlers(app);
  registerSecurityHeaders(app, { contentSecurityPolicy, crossOriginEmbedderPolicy: false });
  // Answers carry personal data or live state: no cache keeps them unless a route says otherwise.
  app.addHook('onSend', async (_request, reply) => {
    if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
  });
  // Limits apply only to routes that ask for one (POST /register).
  await app.register(fastifyRateLimit, { global: false });
  registerInputGuard(app);
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
