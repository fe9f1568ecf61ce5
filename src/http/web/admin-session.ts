import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseCookie, stringifySetCookie } from 'cookie';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Clock } from '../../kernel/clock.ts';
import { UnauthorizedError } from '../auth.ts';
import { problem } from '../problem-schema.ts';

export const ADMIN_SESSION_COOKIE = 'tributary_admin';
const TTL_SECONDS = 12 * 3600;

/**
 * The console's admin session: the admin token traded once for an HttpOnly, SameSite=Strict
 * cookie, so the token is never kept by the page nor put in a URL. The cookie is `expiry.signature`
 * signed with the admin token itself: any api process accepts it, and a new token ends every session.
 */
export class AdminSessions {
  constructor(
    private readonly adminToken: string | undefined,
    private readonly clock: Clock,
  ) {}

  issue(): string {
    const expires = Math.floor(this.clock.now().getTime() / 1000) + TTL_SECONDS;
    return `${expires}.${this.sign(String(expires))}`;
  }

  /** True when the request's cookie header carries a valid, unexpired session. */
  verify(cookieHeader: string | undefined): boolean {
    if (!this.adminToken || !cookieHeader) return false;
    const value = parseCookie(cookieHeader)[ADMIN_SESSION_COOKIE];
    const match = value ? /^(\d+)\.([\w-]+)$/.exec(value) : null;
    if (!match) return false;
    const [, expires, signature] = match as unknown as [string, string, string];
    const expected = Buffer.from(this.sign(expires));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return false;
    return Number(expires) * 1000 > this.clock.now().getTime();
  }

  isAdminToken(token: string): boolean {
    if (!this.adminToken) return false;
    const a = Buffer.from(token);
    const b = Buffer.from(this.adminToken);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private sign(expires: string): string {
    return createHmac('sha256', this.adminToken ?? '')
      .update(`admin-session:${expires}`)
      .digest('base64url');
  }
}

const cookie = (value: string, maxAge: number) =>
  stringifySetCookie({ name: ADMIN_SESSION_COOKIE, value, httpOnly: true, sameSite: 'strict', path: '/', maxAge });

/** `POST /admin/session` trades the admin token for the session cookie; `DELETE` ends it. */
export const adminSessionRoutes = (sessions: AdminSessions) => (app: FastifyInstance) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.post(
    '/admin/session',
    {
      schema: {
        tags: ['admin'],
        summary: 'Sign in to the console: trade the admin token for an HttpOnly, SameSite=Strict session cookie',
        body: z.object({ token: z.string().min(1).max(1000) }).strict(),
        response: { 204: z.null(), 400: problem, 401: problem },
      },
    },
    async (request, reply) => {
      if (!sessions.isAdminToken(request.body.token)) throw new UnauthorizedError('wrong admin token');
      return reply.code(204).header('set-cookie', cookie(sessions.issue(), TTL_SECONDS)).send(null);
    },
  );
  api.get(
    '/admin/session',
    {
      schema: {
        tags: ['admin'],
        summary: 'Whether this browser holds an admin session',
        response: { 200: z.object({ admin: z.boolean() }) },
      },
    },
    async (request) => ({ admin: request.principal?.kind === 'admin' }),
  );
  api.delete(
    '/admin/session',
    { schema: { tags: ['admin'], summary: 'Sign out of the console', response: { 204: z.null() } } },
    async (_request, reply) => reply.code(204).header('set-cookie', cookie('', 0)).send(null),
  );
};
