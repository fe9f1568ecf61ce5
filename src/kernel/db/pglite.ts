import { PGlite } from '@electric-sql/pglite';
import type { Database, Sql } from './database.ts';

interface PgliteLike {
  query<Row>(text: string, params?: unknown[]): Promise<{ rows: Row[]; affectedRows?: number }>;
  exec(text: string): Promise<unknown>;
}

// PGlite runs queries on this thread without yielding: give timers and I/O (HTTP) a turn first.
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

const sqlOf = (client: PgliteLike): Sql => ({
  async query<Row>(text: string, params?: unknown[]) {
    await yieldToEventLoop();
    const result = await client.query<Row>(text, params);
    return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
  },
  async exec(text) {
    await client.exec(text);
  },
});

/** PGlite in `dataDir` (a folder, created when missing) or in memory when `dataDir` is undefined. */
export async function openPglite(dataDir?: string): Promise<Database> {
  const db = await PGlite.create(dataDir);
  return {
    kind: 'pglite',
    ...sqlOf(db),
    // PGlite is one connection: its transaction holds it, so transactions run one at a time.
    transaction: (fn) => db.transaction((tx) => fn(sqlOf(tx))),
    close: () => db.close(),
  };
}
