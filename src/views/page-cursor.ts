import { z } from 'zod';
import { InvalidRequestError } from '../http/invalid-request.ts';
import { instant } from '../http/input-schemas.ts';

/**
 * Keyset pagination for the view lists: rows come in (created_at, id) order, and the cursor is the
 * last row's key, opaque to clients (base64url JSON). A cursor the API did not give out is a 400.
 */
export interface PageKey {
  createdAt: string;
  id: string;
}

// A cursor comes back from the client: its parts are checked like any other input (ids are UUIDs).
const key = z.object({ t: instant, i: z.uuid() }).strict();

export const encodeCursor = ({ createdAt, id }: PageKey): string =>
  Buffer.from(JSON.stringify({ t: createdAt, i: id })).toString('base64url');

export function decodeCursor(cursor: string | undefined): PageKey | undefined {
  if (cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidRequestError('cursor: not a cursor this API gave out', 'cursor');
  }
  const result = key.safeParse(parsed);
  if (!result.success) throw new InvalidRequestError('cursor: not a cursor this API gave out', 'cursor');
  return { createdAt: result.data.t, id: result.data.i };
}

/** The query parameters of a page: how many rows, and where the previous page ended. */
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(100).default(20).describe('rows per page (1-100, default 20)'),
  cursor: z
    .string()
    .max(200)
    .regex(/^[A-Za-z0-9_-]+$/, 'cursor: as returned in nextCursor')
    .optional()
    .describe('nextCursor of the previous page'),
};

/** Takes one row more than the page to know whether another page follows. */
export function pageOf<Row>(
  rows: Row[],
  limit: number,
  keyOf: (row: Row) => PageKey,
): { rows: Row[]; nextCursor: string | null } {
  if (rows.length <= limit) return { rows, nextCursor: null };
  const page = rows.slice(0, limit);
  return { rows: page, nextCursor: encodeCursor(keyOf(page[page.length - 1]!)) };
}
