import type { FastifyInstance } from 'fastify';

/** A request that needs the store, received while the process is still preparing it. */
export class StartingError extends Error {
  constructor() {
    super('the platform is starting: its store is being prepared; nothing was done, try again in a moment');
  }
}

/**
 * Until `started()` (the store migrated), the API's routes answer 503 problem+json with
 * Retry-After, not the database's error: a request in the first seconds of a start neither fails
 * with a 500 nor writes half of its work into a store still being migrated. The routes hidden from
 * the OpenAPI document (the probes, the documents, the web front's pages and files) need no store
 * and answer as usual.
 */
export function registerStartingGate(app: FastifyInstance, started: () => boolean): void {
  // A callback hook: once started, a request pays one call, no promise.
  app.addHook('onRequest', (request, _reply, done) => {
    if (started() || request.routeOptions.schema?.hide === true) done();
    else done(new StartingError());
  });
}
