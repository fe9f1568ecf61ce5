import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../kernel/clock.ts';
import type { AdminSessions } from './web/admin-session.ts';
import type { TokenRevocation } from './token-revocation.ts';

export type Principal = { kind: 'admin' } | { kind: 'customer'; customerId: string };

/** No or a wrong bearer token (401). */
export class UnauthorizedError extends Error {
  override readonly name = 'UnauthorizedError';
}

/** The resource does not exist, or the caller may not know it does (404). */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

const b64 = (value: Buffer | string) => Buffer.from(value).toString('base64url');

/** Signed, expiring bearer tokens for one customer's own resources (HMAC-SHA256). */
export class CustomerTokens {
  constructor(
    private readonly secret: Buffer,
    private readonly clock: Clock,
    private readonly ttlSeconds = 30 * 24 * 3600,
  ) {}

  /** `issuedAt` fixed (e.g. when the registration completed) makes a replayed answer carry the same token. */
  issue(customerId: string, issuedAt: Date = this.clock.now()): string {
    const payload = b64(
      JSON.stringify({ sub: customerId, exp: Math.floor(issuedAt.getTime() / 1000) + this.ttlSeconds }),
    );
    return `ct_${payload}.${this.sign(payload)}`;
  }

  /** The customer id, or null for a token that is forged, malformed or expired. */
  verify(token: string): string | null {
    const match = /^ct_([\w-]+)\.([\w-]+)$/.exec(token);
    if (!match) return null;
    const [, payload, signature] = match as unknown as [string, string, string];
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    try {
      const { sub, exp } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
        sub: string;
        exp: number;
      };
      return exp * 1000 > this.clock.now().getTime() ? sub : null;
    } catch {
      return null;
    }
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const sameSecret = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

const bearerOf = (header: string | undefined) => (header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined);

/** Whether an Authorization header carries this bearer secret (compared in constant time). */
export const bearerIs = (header: string | undefined, secret: string): boolean => {
  const token = bearerOf(header);
  return token !== undefined && sameSecret(token, secret);
};

/** Reads the bearer token of every request into `request.principal`. */
export function registerAuth(
  app: FastifyInstance,
  options: {
    adminToken: string | undefined;
    tokens: CustomerTokens;
    revocation?: TokenRevocation;
    sessions?: AdminSessions;
  },
): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    const token = bearerOf(request.headers.authorization);
    // Without a bearer token, the console's session cookie (POST /admin/session) stands for the admin token.
    if (!token) {
      if (options.sessions?.verify(request.headers.cookie)) request.principal = { kind: 'admin' };
      return;
    }
    if (options.adminToken && sameSecret(token, options.adminToken)) request.principal = { kind: 'admin' };
    else {
      const customerId = options.tokens.verify(token);
      // An erased or deleted customer's token is worth nothing, on every route.
      if (customerId && (!options.revocation || (await options.revocation.holds(customerId))))
        request.principal = { kind: 'customer', customerId };
    }
  });
}

export function requireAdmin(request: FastifyRequest): void {
  if (request.principal?.kind !== 'admin') throw new UnauthorizedError('this needs the admin token');
}

/** Admin, or the customer who owns the resource; anyone else learns nothing (404). */
export function requireOwner(request: FastifyRequest, ownerId: string | undefined): void {
  const principal = request.principal;
  if (!principal) throw new UnauthorizedError('this needs a bearer token');
  if (principal.kind === 'admin') return;
  if (ownerId === undefined || principal.customerId !== ownerId) throw new NotFoundError('not found');
}

export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw new UnauthorizedError('this needs a bearer token');
  return request.principal;
}
