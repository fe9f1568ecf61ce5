import { PGlite } from '@electric-sql/pglite';
import { cpSync, existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
 * A database already through initdb, built by `npm run build` (running initdb in WebAssembly is
 * most of a first start): a folder a new store is copied from, and the same files as a tarball
 * for a database in memory. Without them (tests on the sources before any build) a new database
 * is initialised the slow way.
 */
const TEMPLATE_FOLDER = fileURLToPath(new URL('../../../dist/pglite-template', import.meta.url));
const TEMPLATE_TARBALL = new URL('../../../dist/pglite-template.tar', import.meta.url);

/** Where a process copies the template before renaming it into place: beside the store, named after the process. */
const copyPath = (dataDir: string, pid: number) => `${dataDir}.${pid}.new`;

/**
 * A new folder is a copy of the template folder (half the time of PGlite unpacking the tarball,
 * and a synchronous copy half that of an asynchronous one: nothing else runs yet), made beside it
 * and renamed: a crash never leaves half a database where the store is looked for.
 */
function copyTemplate(dataDir: string): void {
  if (existsSync(dataDir) || !existsSync(join(TEMPLATE_FOLDER, 'PG_VERSION'))) return;
  const copy = copyPath(dataDir, process.pid);
  try {
    cpSync(TEMPLATE_FOLDER, copy, { recursive: true });
    renameSync(copy, dataDir);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Copies that a crash left beside the store (`<store>.<pid>.new`, their process gone): never read, 40 MB each. */
function removeAbandonedCopies(dataDir: string): void {
  const parent = dirname(dataDir);
  if (!existsSync(parent)) return;
  for (const name of readdirSync(parent)) {
    const pid = Number(name.match(/\.(\d+)\.new$/)?.[1]);
    const path = join(parent, name);
    if (path === copyPath(dataDir, pid) && !isRunning(pid)) rmSync(path, { recursive: true, force: true });
  }
}

/** The tarball a database with no files yet starts from: in memory, or a folder that exists but holds no database. */
async function tarballFor(dataDir: string | undefined): Promise<Blob | undefined> {
  if ((dataDir && existsSync(join(dataDir, 'PG_VERSION'))) || !existsSync(TEMPLATE_TARBALL)) return undefined;
  return new Blob([await readFile(TEMPLATE_TARBALL)]);
}

/**
 * PostgreSQL's default 128 MB of shared buffers is zeroed by the WebAssembly runtime at every
 * start (about a third of a second here); 32 MB start in 0.6 s instead of 0.9. Pages past them
 * are read through the operating system's file cache.
 */
const START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=32MB'];

/**
 * While PGlite compiles its WebAssembly nothing else may hold the event loop (early in a start),
 * and Node, finding the loop empty, then waits for every background task to finish: the
 * optimizing compilation of the whole module, 200–300 ms of each start on this machine. A timer
 * keeps the loop running, and the optimized code comes in when it is ready.
 */
async function keepingLoopAlive<T>(work: () => Promise<T>): Promise<T> {
  const awake = setInterval(() => {}, 60_000);
  try {
    return await work();
  } finally {
    clearInterval(awake);
  }
}

/** PGlite in `dataDir` (a folder, created when missing) or in memory when `dataDir` is undefined. */
export async function openPglite(dataDir?: string): Promise<Database> {
  if (dataDir) {
    removeAbandonedCopies(dataDir);
    copyTemplate(dataDir);
  }
  const db = await keepingLoopAlive(async () =>
    PGlite.create(dataDir, { loadDataDir: await tarballFor(dataDir), startParams: START_PARAMS }),
  );
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
