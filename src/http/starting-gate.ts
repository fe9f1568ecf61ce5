import type { FastifyInstance } from 'fastify';

/** Answered before the store is ready: the probes, the documents and the web front's files and pages. */
const OPEN = /^\/(health|ready|metrics|openapi\.json|asyncapi\.json|account|console)?$|^\/(docs|assets|console)\//;

/** A request that needs the store, received while the process is still preparing it. */
export class StartingError extends Error {
  constructor() {
    super('the platform is starting: its store is being prepared; nothing was done, try again in a moment');
  }
}

/**
 * Until `started()` (the store migrated), a request that would read or write the store answers
 * 503 problem+json with Retry-After, not the database's error: a request in the first seconds of
 * a start neither fails with a 500 nor writes half of its work into a store still being migrated.
 */
export function registerStartingGate(app: FastifyInstance, started: () => boolean): void {
  // A callback hook: once started, a request pays one call, no promise.
  app.addHook('onRequest', (request, _reply, done) => {
    if (started() || OPEN.test(request.routeOptions.url ?? request.url.split('?')[0]!)) done();
    else done(new StartingError());
  });
}
