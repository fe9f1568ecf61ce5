import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { PROBLEM_BASE, sendProblem } from '../problem.ts';

/** Where `npm run build:web` writes the front end. */
export const WEB_DIST = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/** The pages the browser app routes itself; each answers the app's index.html. */
const PAGES = ['/', '/account', '/console', '/console/*'];

/**
 * Serves the web front (`web/dist`): hashed assets under /assets/ with long caching, and the
 * app's page for `/`, `/account` and `/console/*`. Every other route stays the API's.
 */
export const webFrontRoutes =
  (root: string = WEB_DIST) =>
  (app: FastifyInstance) => {
    const built = existsSync(`${root}/index.html`);
    if (built) {
      void app.register(fastifyStatic, {
        root: `${root}/assets`,
        prefix: '/assets/',
        immutable: true,
        maxAge: '365d',
        index: false,
      });
    }
    const page = async (_request: unknown, reply: FastifyReply) => {
      if (!built) {
        return sendProblem(reply, {
          type: `${PROBLEM_BASE}web-not-built`,
          title: 'The web front is not built',
          status: 503,
          detail: 'run `npm run build:web` (npm install does it)',
        });
      }
      // The page names the hashed assets of this build: always revalidated, never cached for long.
      return reply.header('cache-control', 'no-cache').sendFile('index.html', root, { cacheControl: false });
    };
    for (const url of PAGES) app.get(url, { schema: { hide: true } }, page);
  };
