import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { z } from 'zod';
import {
  chargeRequestSchema,
  idempotencyKey,
  invalidRequest,
  InvalidGatewayRequestError,
  refundRequestSchema,
  type PaymentGateway,
} from './gateway.ts';
import { GATEWAY_PROBLEM_BASE, gatewayProblem, type GatewayProblem } from './problems.ts';
import { faultKinds, gatewayOperations, type SimulatedGateway } from './simulated-gateway.ts';

export interface GatewayServerOptions {
  /** When set, every route but `/health` needs `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /**
   * Exposes the simulator's fault injection and counters under `/simulator/*`, for tests that run
   * the gateway as a separate process. Never in production.
   */
  simulator?: SimulatedGateway;
  /** A pino logger; silent when absent. */
  logger?: FastifyBaseLogger;
}

const sendProblem = (reply: FastifyReply, request: FastifyRequest, body: GatewayProblem) =>
  reply
    .code(body.status)
    .type('application/problem+json')
    .send({ ...body, instance: request.url });

const digest = (value: string) => createHash('sha256').update(value).digest();

const faultBody = z
  .object({
    count: z.int().min(0).max(1_000_000),
    kind: z.enum(faultKinds),
    operation: z.enum(gatewayOperations).default('charge'),
  })
  .strict();
const latencyBody = z.object({ latencyMs: z.number().min(0).max(600_000) }).strict();

/** The body of a write, with the idempotency key from the `Idempotency-Key` header. */
function withKey(request: FastifyRequest): Record<string, unknown> {
  const header = request.headers['idempotency-key'];
  const key = idempotencyKey.safeParse(Array.isArray(header) ? header[0] : header);
  if (!key.success)
    throw new InvalidGatewayRequestError(
      'Idempotency-Key',
      `the Idempotency-Key header is required (1-255 characters)`,
    );
  const body = request.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new InvalidGatewayRequestError(null, 'the body must be a JSON object');
  if ('idempotencyKey' in body)
    throw new InvalidGatewayRequestError(
      'idempotencyKey',
      'send the idempotency key in the Idempotency-Key header, not in the body',
    );
  return { ...body, idempotencyKey: key.data };
}

/**
 * The payment gateway as an HTTP service (distributed mode): `POST /charges` and `POST /refunds`
 * (key in `Idempotency-Key`), `GET /charges/{idempotencyKey}`, `GET /health`; errors are
 * problem+json. `HttpGateway` is its client.
 */
export function buildGatewayServer(gateway: PaymentGateway, options: GatewayServerOptions = {}): FastifyInstance {
  const app = Fastify({
    bodyLimit: 16 * 1024,
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const known = gatewayProblem(error);
    if (known) return sendProblem(reply, request, known);
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return sendProblem(reply, request, {
        type: `${GATEWAY_PROBLEM_BASE}invalid-request`,
        title: 'Invalid request',
        status: error.statusCode,
        detail: error.message,
        field: null,
      });
    }
    request.log.error({ err: error }, 'gateway request failed');
    // The outcome of a write that failed here is unknown to the caller: it treats a 500 as ambiguous.
    return sendProblem(reply, request, {
      type: `${GATEWAY_PROBLEM_BASE}internal`,
      title: 'Internal error',
      status: 500,
    });
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, request, {
      type: `${GATEWAY_PROBLEM_BASE}not-found`,
      title: 'Not found',
      status: 404,
      detail: `no route ${request.method} ${request.url}`,
    }),
  );

  if (options.apiKey !== undefined) {
    const expected = digest(`Bearer ${options.apiKey}`);
    app.addHook('onRequest', async (request, reply) => {
      if (request.url === '/health') return;
      if (!timingSafeEqual(digest(request.headers.authorization ?? ''), expected)) {
        return sendProblem(reply, request, {
          type: `${GATEWAY_PROBLEM_BASE}unauthorized`,
          title: 'Unauthorized',
          status: 401,
          detail: 'a valid bearer API key is required',
        });
      }
    });
  }

  app.get('/health', async () => ({ status: 'ok' }));

  app.post('/charges', async (request) => {
    const parsed = chargeRequestSchema.safeParse(withKey(request));
    if (!parsed.success) throw invalidRequest(parsed.error);
    return gateway.charge(parsed.data);
  });

  app.post('/refunds', async (request) => {
    const parsed = refundRequestSchema.safeParse(withKey(request));
    if (!parsed.success) throw invalidRequest(parsed.error);
    return gateway.refund(parsed.data);
  });

  app.get<{ Params: { idempotencyKey: string } }>('/charges/:idempotencyKey', async (request, reply) => {
    const charge = await gateway.retrieve(request.params.idempotencyKey);
    if (charge) return charge;
    return sendProblem(reply, request, {
      type: `${GATEWAY_PROBLEM_BASE}charge-not-found`,
      title: 'No charge with this idempotency key',
      status: 404,
      detail: 'no charge was made with this idempotency key',
      idempotencyKey: request.params.idempotencyKey,
    });
  });

  const simulator = options.simulator;
  if (simulator) {
    app.post('/simulator/faults', async (request, reply) => {
      const parsed = faultBody.safeParse(request.body);
      if (!parsed.success) throw invalidRequest(parsed.error);
      simulator.failNext(parsed.data.count, parsed.data.kind, parsed.data.operation);
      return reply.code(204).send();
    });
    app.delete('/simulator/faults', async (_request, reply) => {
      simulator.clearFaults();
      return reply.code(204).send();
    });
    app.put('/simulator/latency', async (request, reply) => {
      const parsed = latencyBody.safeParse(request.body);
      if (!parsed.success) throw invalidRequest(parsed.error);
      simulator.setLatency(parsed.data.latencyMs);
      return reply.code(204).send();
    });
    app.get('/simulator/counters', async () => simulator.counters());
    app.get<{ Querystring: { customerId?: string } }>('/simulator/charges', async (request) =>
      simulator.listCharges(request.query.customerId === undefined ? {} : { customerId: request.query.customerId }),
    );
  }

  return app;
}
