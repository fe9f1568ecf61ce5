import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { InvalidRequestError } from './invalid-request.ts';

/** The `minPosition` query parameter of every query API (read-your-writes); add it to the querystring schema. */
export const minPositionQuery = {
  minPosition: z.coerce
    .number()
    .int()
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .optional()
    .describe(
      'wait (a few seconds at most) until the view has applied the event at this store position, as returned by a write; or send X-Min-Position',
    ),
};

/** The `X-Min-Position` header, for a route's headers schema (OpenAPI); `minPositionOf` validates it. */
export const minPositionHeaders = z.object({
  'x-min-position': z.string().optional().describe('the same as the minPosition query parameter'),
});

/** `minPosition` from the query string, else from the `X-Min-Position` header; a bad header is a 400. */
export function minPositionOf(request: Pick<FastifyRequest, 'query' | 'headers'>): number | undefined {
  const fromQuery = (request.query as { minPosition?: number } | undefined)?.minPosition;
  if (fromQuery !== undefined) return fromQuery;
  const header = request.headers['x-min-position'];
  if (header === undefined) return undefined;
  const value = Array.isArray(header) ? header[0] : header;
  if (!value || !/^\d{1,15}$/.test(value.trim()))
    throw new InvalidRequestError('X-Min-Position must be a non-negative integer store position', 'X-Min-Position');
  return Number(value);
}
