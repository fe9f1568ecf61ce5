import { createHmac } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { z, ZodObject } from 'zod';
import type { Database } from '../kernel/db/database.ts';
import type { Migration } from '../kernel/db/migrate.ts';
import { IdempotencyKeyMismatchError } from '../services/registration/registration-service.ts';
import { idempotencyKey } from './input-schemas.ts';

export const idempotencyMigrations: Migration[] = [
  {
    id: '0021_http_idempotency',
    sql: /* sql */ `
      -- The answers of writes sent with an Idempotency-Key, per route and caller. The request is
      -- kept as a keyed hash only; status is null while the first request with the key runs.
      create table http_idempotency (
        scope text not null,
        key text not null,
        request_hash text not null,
        status integer,
        content_type text,
        location text,
        body text,
        created_at timestamptz not null default now(),
        primary key (scope, key)
      );
    `,
  },
];

/** A request with this key is still running (409): retry once it answered. */
export class IdempotencyKeyInFlightError extends Error {
  override readonly name = 'IdempotencyKeyInFlightError';
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** 'own': the route keeps its keys itself (the registration saga, whose key outlives a crash). */
    idempotency?: 'own';
  }
  interface FastifyRequest {
    idempotencyClaim: { scope: string; key: string } | null;
  }
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** A first request that never answered (its process died) no longer holds its key after this. */
const STALE_SECONDS = 60;

const handlesKeys = (route: Pick<RouteOptions, 'method' | 'schema' | 'config'>) =>
  [route.method].flat().some((method) => WRITES.has(method)) &&
  route.schema !== undefined &&
  !route.schema.hide &&
  (route.config as { idempotency?: string } | undefined)?.idempotency !== 'own';

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
    const hash = hashOf(request);
    const { rows } = await deps.db.query<{
      claimed: boolean;
      request_hash: string;
      status: number | null;
      content_type: string | null;
      location: string | null;
      body: string | null;
    }>(
      `with claim as (
         insert into http_idempotency (scope, key, request_hash) values ($1, $2, $3)
         on conflict (scope, key) do update set created_at = now()
           where http_idempotency.status is null and http_idempotency.request_hash = excluded.request_hash
             and http_idempotency.created_at < now() - make_interval(secs => ${STALE_SECONDS})
         returning true as claimed, request_hash, status, content_type, location, body
       )
       select * from claim
       union all
       select false, request_hash, status, content_type, location, body from http_idempotency
        where scope = $1 and key = $2 and not exists (select 1 from claim)`,
      [scope, key, hash],
    );
    const row = rows[0]!;
    if (row.claimed) {
      request.idempotencyClaim = { scope, key };
      return;
    }
    if (row.request_hash !== hash)
      throw new IdempotencyKeyMismatchError('this Idempotency-Key was used with a different request');
    if (row.status === null)
      throw new IdempotencyKeyInFlightError(
        'a request with this Idempotency-Key is still running; retry when it has answered',
      );
    return replay(
      reply,
      row as { status: number; content_type: string | null; location: string | null; body: string | null },
    );
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
      await deps.db.query('delete from http_idempotency where scope = $1 and key = $2 and status is null', [
        claim.scope,
        claim.key,
      ]);
      return payload;
    }
    const location = reply.getHeader('location');
    await deps.db.query(
      'update http_idempotency set status = $3, content_type = $4, location = $5, body = $6 where scope = $1 and key = $2',
      [
        claim.scope,
        claim.key,
        status,
        String(reply.getHeader('content-type') ?? ''),
        location === undefined ? null : String(location),
        payload ?? '',
      ],
    );
    return payload;
  });
}

function replay(
  reply: FastifyReply,
  stored: { status: number; content_type: string | null; location: string | null; body: string | null },
) {
  void reply.code(stored.status).header('idempotent-replayed', 'true');
  if (stored.content_type) void reply.type(stored.content_type);
  if (stored.location) void reply.header('location', stored.location);
  return reply.send(stored.body ?? '');
}
