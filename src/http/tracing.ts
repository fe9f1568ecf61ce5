import type { FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { uuidv7 } from '../kernel/ids.ts';
import { continueTrace, traceIdOf, withTrace } from '../kernel/tracing.ts';

/** The span of a request, chosen when Fastify names the request (before its first log line). */
const spans = new WeakMap<IncomingMessage, string>();

/**
 * A request id unique across processes (UUID v7, the correlation id of what the request causes),
 * and the request's span: a child of the client's `traceparent` when it sent a valid one, else
 * the root of a new trace.
 */
export function requestId(raw: IncomingMessage): string {
  const header = raw.headers.traceparent;
  spans.set(raw, continueTrace(Array.isArray(header) ? header[0] : header));
  return uuidv7();
}

/** The request's span (one is made for a request `requestId` never saw, as in `inject`). */
export function spanOf(raw: IncomingMessage): string {
  let span = spans.get(raw);
  if (!span) spans.set(raw, (span = continueTrace(undefined)));
  return span;
}

/** The trace id on every log line of the request (its child logger). */
export const requestLogBindings = (raw: IncomingMessage) => ({ traceId: traceIdOf(spanOf(raw)) });

/**
 * Runs the rest of each request inside its span, so the events it appends and the saga it starts
 * carry its traceparent, and answers with the span's `traceparent` for the client to follow.
 * Entered again before the handler: body parsing may leave the context of `onRequest`.
 */
export function registerTracing(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    const span = spanOf(request.raw);
    void reply.header('traceparent', span);
    withTrace(span, done);
  });
  app.addHook('preHandler', (request, _reply, done) => withTrace(spanOf(request.raw), done));
}
