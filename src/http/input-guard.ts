import type { FastifyInstance, RouteOptions } from 'fastify';
import { ZodObject } from 'zod';
import { InvalidRequestError } from './invalid-request.ts';

/**
 * Characters no field of this API takes: C0 and C1 controls (NUL, CR, LF, ESC...), DEL, bidi
 * overrides and isolates, zero-width and other invisible format characters, and lone UTF-16
 * surrogates (which no database stores). They are how header injection, spoofed names and
 * database errors get in, so they are refused at the edge, for every route at once.
 */
const FORBIDDEN =
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export const hasForbiddenCharacters = (text: string): boolean => FORBIDDEN.test(text);

/** The first string (or key) under `value` holding a forbidden character: its path, or null. */
function forbiddenPath(value: unknown, path: string): string | null {
  if (typeof value === 'string') return hasForbiddenCharacters(value) ? path : null;
  if (value === null || typeof value !== 'object') return null;
  for (const [key, inner] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (hasForbiddenCharacters(key)) return at;
    const found = forbiddenPath(inner, at);
    if (found !== null) return found;
  }
  return null;
}

/** Longer URLs are refused (414) before anything reads them; Node refuses headers over 16 KiB (431). */
const MAX_URL_LENGTH = 8 * 1024;

/** The URL is too long (414). */
export class UriTooLongError extends Error {
  override readonly name = 'UriTooLongError';
  readonly statusCode = 414;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The query parameters the route's schema declares (null: the route takes any, e.g. static files). */
    queryKeys?: readonly string[] | null;
  }
}

function declaredQueryKeys(route: RouteOptions): readonly string[] | null {
  if (!route.schema) return null;
  const query = route.schema.querystring;
  if (query === undefined) return [];
  return query instanceof ZodObject ? Object.keys(query.shape) : null;
}

/**
 * Refuses, before validation, a request with a query parameter its route does not declare, or a
 * forbidden character in a path parameter, query parameter, body field or Idempotency-Key (400
 * problem+json naming the field). Register it before the routes.
 */
export function registerInputGuard(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    if (request.url.length > MAX_URL_LENGTH)
      throw new UriTooLongError(`the URL is longer than ${MAX_URL_LENGTH} characters`);
  });
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config as object), queryKeys: declaredQueryKeys(route) };
  });
  app.addHook('preValidation', async (request) => {
    const allowed = request.routeOptions.config.queryKeys;
    const query = (request.query ?? {}) as Record<string, unknown>;
    if (allowed) {
      const unknown = Object.keys(query).find((key) => !allowed.includes(key));
      if (unknown !== undefined) {
        const known = allowed.length ? `; known: ${allowed.join(', ')}` : '; this route takes none';
        throw new InvalidRequestError(`unknown query parameter ${JSON.stringify(unknown)}${known}`, unknown);
      }
    }
    for (const [where, value] of [
      ['params', request.params],
      ['query', query],
      ['body', request.body],
    ] as const) {
      const field = forbiddenPath(value, '');
      if (field !== null)
        throw new InvalidRequestError(
          `${where}.${field || 'body'}: control, invisible or malformed characters are not accepted`,
          field || where,
        );
    }
    const key = request.headers['idempotency-key'];
    if (typeof key === 'string' && hasForbiddenCharacters(key))
      throw new InvalidRequestError('Idempotency-Key: printable ASCII only', 'Idempotency-Key');
  });
}
