import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { EventStore } from '../../kernel/store/event-store.ts';
import { NotFoundError, requireAdmin } from '../auth.ts';
import { problem } from '../problem-schema.ts';
import { EventBrowser, matches } from './event-browser.ts';
import { eventEnvelope, toEnvelope } from './event-view.ts';
import { followLog, formatPosition, parsePosition } from './live-log.ts';

const filter = {
  type: z.string().max(100).optional(),
  stream: z.string().max(200).optional(),
  customer: z.string().max(64).optional().describe("the customer id (the events' partition key)"),
};
const HEARTBEAT_MS = 15_000;

/** The event store for the console: the global log newest first, streams, one event and its relatives, live. */
export const adminEventRoutes = (deps: { store: EventStore }) => (app: FastifyInstance) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const browser = new EventBrowser(deps.store);
  const security = [{ bearer: [] }];

  api.get(
    '/admin/events',
    {
      schema: {
        tags: ['admin'],
        summary: 'The global log, newest first, filtered by type, stream or customer; `before` (a position) pages back',
        security,
        querystring: z.object({
          ...filter,
          before: z.coerce.number().int().min(0).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
        }),
        response: {
          200: z.object({ events: z.array(eventEnvelope), nextBefore: z.number().nullable() }),
          400: problem,
          401: problem,
        },
      },
    },
    async (request) => {
      requireAdmin(request);
      const { before, limit, ...rest } = request.query;
      const events = await browser.latest(rest, { before, limit });
      return {
        events: events.map(toEnvelope),
        nextBefore: events.length === limit ? events[events.length - 1]!.position : null,
      };
    },
  );

  api.get(
    '/admin/events/stream',
    {
      schema: {
        tags: ['admin'],
        summary:
          'Server-Sent Events: every event appended from now on (`event: event`, data = the envelope), filtered like /admin/events; resumes after `Last-Event-ID`',
        security,
        querystring: z.object(filter),
        headers: z.object({ 'last-event-id': z.string().max(64).optional() }),
        response: { 200: z.string().describe('text/event-stream'), 401: problem },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      const from = parsePosition(request.headers['last-event-id']) ?? (await deps.store.readableHead());
      const closed = new AbortController();
      request.raw.once('close', () => closed.abort());
      reply.hijack();
      const out = reply.raw;
      out.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      out.write(`retry: 2000\n: following the log after ${formatPosition(from)}\n\n`);
      let quietSince = performance.now(); // elapsed time for the heartbeat, not business time
      await followLog(
        deps.store,
        from,
        (events, at) => {
          for (const event of events.filter((e) => matches(e, request.query))) {
            out.write(`id: ${formatPosition(at)}\nevent: event\ndata: ${JSON.stringify(toEnvelope(event))}\n\n`);
          }
          quietSince = performance.now();
        },
        () => {
          if (performance.now() - quietSince < HEARTBEAT_MS) return;
          out.write(': heartbeat\n\n');
          quietSince = performance.now();
        },
        closed.signal,
      ).catch((error: unknown) => request.log.warn({ err: error }, 'live event stream ended'));
      out.end();
    },
  );

  api.get(
    '/admin/events/:id',
    {
      schema: {
        tags: ['admin'],
        summary: 'One event with its correlation (everything the same request caused), its cause and what it caused',
        security,
        params: z.object({ id: z.uuid() }),
        response: {
          200: z.object({
            event: eventEnvelope,
            causation: eventEnvelope.nullable(),
            caused: z.array(eventEnvelope),
            correlated: z.array(eventEnvelope),
          }),
          401: problem,
          404: problem,
        },
      },
    },
    async (request) => {
      requireAdmin(request);
      const event = await browser.byId(request.params.id);
      if (!event) throw new NotFoundError(`no event ${request.params.id}`);
      const cause = event.metadata.causationId ? await browser.byId(event.metadata.causationId) : undefined;
      const [caused, correlated] = await Promise.all([
        browser.causedBy(event.id),
        browser.correlated(event.metadata.correlationId),
      ]);
      return {
        event: toEnvelope(event),
        causation: cause ? toEnvelope(cause) : null,
        caused: caused.map(toEnvelope),
        correlated: correlated.map(toEnvelope),
      };
    },
  );

  api.get(
    '/admin/streams/:streamId',
    {
      schema: {
        tags: ['admin'],
        summary: 'Every version of one stream, oldest first',
        security,
        params: z.object({ streamId: z.string().max(200) }),
        response: {
          200: z.object({ streamId: z.string(), events: z.array(eventEnvelope) }),
          401: problem,
          404: problem,
        },
      },
    },
    async (request) => {
      requireAdmin(request);
      const events = await deps.store.readStream(request.params.streamId, { limit: 1000 });
      if (events.length === 0) throw new NotFoundError(`no stream ${request.params.streamId}`);
      return { streamId: request.params.streamId, events: events.map(toEnvelope) };
    },
  );
};
