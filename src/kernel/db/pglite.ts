import { PGlite } from '@electric-sql/pglite';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { coalescedPerKey } from './coalesced.ts';
import type { Database, Sql } from './database.ts';

interface PgliteLike {
  query<Row>(text: string, params?: unknown[]): Promise<{ rows: Row[]; affectedRows?: number }>;
  exec(text: string): Promise<unknown>;
}

// PGlite runs queries on this thread without yielding: give timers and I/O (HTTP) a turn first.
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

const atOnce = (callback: () => void) => callback();

const sqlOf = (client: PgliteLike, scope: object, onCommit = atOnce): Sql => ({
  scope,
  onCommit,
  async query<Row>(text: string, params?: unknown[]) {
    await yieldToEventLoop();
    const result = await client.query<Row>(text, params);
    return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
  },
  async exec(text) {
    await client.exec(text);
  },
});

/**
 * A database already through initdb and the migrations, built by `npm run build`: a new folder
 * starts from it, since running initdb in WebAssembly is most of a first start. Without it (tests
 * on the sources before any build) the folder is initialised the slow way.
 */
const TEMPLATE = new URL('../../../dist/pglite-template.tar', import.meta.url);

async function templateFor(dataDir: string | undefined): Promise<Blob | undefined> {
  if (!dataDir || existsSync(join(dataDir, 'PG_VERSION')) || !existsSync(TEMPLATE)) return undefined;
  return new Blob([await readFile(TEMPLATE)]);
}

/** PGlite in `dataDir` (a folder, created when missing) or in memory when `dataDir` is undefined. */
export async function openPglite(dataDir?: string): Promise<Database> {
  const db = await PGlite.create(dataDir, { loadDataDir: await templateFor(dataDir) });
  return {
    kind: 'pglite',
    ...sqlOf(db, db),
    // PGlite is one connection: its transaction holds it, so transactions run one at a time.
    async transaction(fn) {
      const committed = new Set<() => void>(); // the same callback once, however many appends asked
      const result = await db.transaction((tx) => fn(sqlOf(tx, db, (callback) => committed.add(callback))));
      for (const callback of committed) callback();
      return result;
    },
    listen(channel, onNotify) {
      const listening = db.listen(`${channel}_public`, () => onNotify());
      // Without the notification readers still see this process's appends at once (the store's signal).
      listening.catch(() => undefined);
      return async () => {
        if (!db.closed) await (await listening)();
      };
    },
    notify: coalescedPerKey(
      async (channel) => !db.closed && (await db.query(`select pg_notify($1, '')`, [`${channel}_public`])),
      0,
    ),
    close: () => db.close(),
  };
}
