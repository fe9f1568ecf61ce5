import { createHmac } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { z, ZodObject } from 'zod';
import type { Database } from '../kernel/db/database.ts';
import { claimAnswer, keepAnswer, releaseAnswer, type StoredAnswer } from '../kernel/idempotency.ts';
import { idempotencyKey } from './input-schemas.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** 'resource': the route binds its key to the workflow it starts (claimResource), which a retry joins, even after a crash. */
    idempotency?: 'resource';
  }
  interface FastifyRequest {
    idempotencyClaim: { scope: string; key: string } | null;
  }
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const handlesKeys = (route: Pick<RouteOptions, 'method' | 'schema' | 'config'>) =>
  [route.method].flat().some((method) => WRITES.has(method)) &&
  route.schema !== undefined &&
  !route.schema.hide &&
  (route.config as { idempotency?: string } | undefined)?.idempotency !== 'resource';

/** Every write declares the header (OpenAPI) with the same schema. */
function declareHeader(route: RouteOptions): void {
  const schema = route.schema!;
  const headers = schema.headers instanceof ZodObject ? schema.headers : z.object({});
  schema.headers = headers.extend({ 'idempotency-key': idempotencyKey.optional() });
}

/**
 * `Idempotency-Key` for every write, in one place (as Stripe does): the first request with a key
 * runs and its answer is kept, per route and caller; the same key with the same request answers
 * the same again without running anything; with another request, 422; while the first still
 * runs, 409. A 5xx or a 202 (not final) is not kept, so a retry runs again.
 */
export function registerIdempotency(app: FastifyInstance, deps: { db: Database; secret: Buffer }): void {
  app.decorateRequest('idempotencyClaim', null);
  app.addHook('onRoute', (route) => {
    if (handlesKeys(route)) declareHeader(route);
  });

  const hashOf = (request: FastifyRequest) =>
    createHmac('sha256', deps.secret)
      .update(JSON.stringify({ params: request.params ?? null, body: request.body ?? null }))
      .digest('base64url');

  app.addHook('preHandler', async (request, reply) => {
    const key = request.headers['idempotency-key'];
    if (typeof key !== 'string' || !handlesKeys(request.routeOptions as RouteOptions)) return;
    const principal = request.principal;
    const caller =
      principal === null ? 'anonymous' : principal.kind === 'admin' ? 'admin' : `customer:${principal.customerId}`;
    const scope = `${request.method} ${request.routeOptions.url} ${caller}`;
    const stored = await claimAnswer(deps.db, { scope, key, requestHash: hashOf(request) });
    if (!stored) return void (request.idempotencyClaim = { scope, key });
    return replay(reply, stored);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const claim = request.idempotencyClaim;
    if (!claim) return payload;
    request.idempotencyClaim = null;
    const status = reply.statusCode;
    if (
      status >= 500 ||
      status === 202 ||
      status === 429 ||
      (typeof payload !== 'string' && payload !== null && payload !== undefined)
    ) {
      await releaseAnswer(deps.db, claim);
      return payload;
    }
    const location = reply.getHeader('location');
    await keepAnswer(deps.db, claim, {
      status,
      contentType: String(reply.getHeader('content-type') ?? ''),
      location: location === undefined ? null : String(location),
      body: payload ?? '',
    });
    return payload;
  });
}

function replay(reply: FastifyReply, stored: StoredAnswer) {
  void reply.code(stored.status).header('idempotent-replayed', 'true');
  if (stored.contentType) void reply.type(stored.contentType);
  if (stored.location) void reply.header('location', stored.location);
  return reply.send(stored.body ?? '');
}
