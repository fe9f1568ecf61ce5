/**
 * The thread PGlite runs in (see `pglite.ts`): PostgreSQL's WebAssembly computes here while the
 * main thread parses requests and runs handlers, and it starts while the main thread loads the
 * platform's modules. It answers the main thread's requests one message each, the first of them
 * naming the store to open.
 */
import type { PGlite, Transaction } from '@electric-sql/pglite';
import { parentPort } from 'node:worker_threads';
import { createPglite, loadPgliteAssets } from './pglite-files.ts';

export type Request = { id: number } & (
  | { op: 'open'; dataDir?: string }
  | { op: 'query'; text: string; params?: unknown[]; tx?: number }
  | { op: 'exec'; text: string; tx?: number }
  | { op: 'begin'; tx: number }
  | { op: 'end'; tx: number; commit: boolean }
  | { op: 'listen' | 'unlisten'; channel: string }
  | { op: 'close' }
);

/** A statement's error as plain fields (an Error's own properties do not cross threads). */
export interface ErrorFields {
  message: string;
  [field: string]: unknown;
}

export type Reply =
  | { id: number; result: unknown }
  | { id: number; error: ErrorFields }
  | { notify: string }
  | { opened: true }
  | { failed: ErrorFields };

const port = parentPort!;
const post = (reply: Reply) => port.postMessage(reply);

const fieldsOf = (error: unknown): ErrorFields => {
  if (!(error instanceof Error)) return { message: String(error) };
  const fields: ErrorFields = { message: error.message, name: error.name };
  for (const [key, value] of Object.entries(error))
    if (value === undefined || ['string', 'number', 'boolean'].includes(typeof value)) fields[key] = value;
  return fields;
};

/** Rejects a transaction's promise so that PGlite rolls it back. */
const ROLLBACK = Symbol('rollback');

interface OpenTransaction {
  /** The handle its statements use, once PGlite is inside it (rejected when BEGIN failed). */
  handle: Promise<Transaction>;
  /** Commits or rolls back, once inside. */
  end: (commit: boolean) => void;
  ended: Promise<unknown>;
}
const transactions = new Map<number, OpenTransaction>();

const sqlOf = async (db: PGlite, tx: number | undefined) => (tx ? transactions.get(tx)!.handle : db);
const unlistens = new Map<string, () => Promise<void>>();

async function answer(db: PGlite, request: Exclude<Request, { op: 'open' }>): Promise<unknown> {
  switch (request.op) {
    case 'query': {
      const result = await (await sqlOf(db, request.tx)).query(request.text, request.params);
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
    }
    case 'exec':
      await (await sqlOf(db, request.tx)).exec(request.text);
      return undefined;
    case 'begin':
      await begin(db, request.tx);
      return undefined;
    case 'end': {
      const open = transactions.get(request.tx)!;
      transactions.delete(request.tx);
      await open.handle;
      open.end(request.commit);
      await open.ended.catch((error: unknown) => {
        if (error !== ROLLBACK) throw error;
      });
      return undefined;
    }
    case 'listen':
      if (!unlistens.has(request.channel))
        unlistens.set(request.channel, await db.listen(request.channel, () => post({ notify: request.channel })));
      return undefined;
    case 'unlisten':
      await unlistens.get(request.channel)?.();
      unlistens.delete(request.channel);
      return undefined;
    case 'close':
      await db.close();
      return undefined;
  }
}

/**
 * Starts transaction `tx`, numbered by the main thread, which sends its statements without waiting
 * (they wait here for the handle): held open until its `end` request. Resolves once inside.
 */
function begin(db: PGlite, tx: number): Promise<Transaction> {
  let inside!: (handle: Transaction) => void;
  let failed!: (error: unknown) => void;
  const handle = new Promise<Transaction>((resolve, reject) => ((inside = resolve), (failed = reject)));
  const open: OpenTransaction = { handle, end: () => {}, ended: Promise.resolve() };
  open.ended = db.transaction(
    (handle) =>
      new Promise((commit, rollback) => {
        open.end = (ok) => (ok ? commit(undefined) : rollback(ROLLBACK));
        inside(handle);
      }),
  );
  open.ended.catch(failed); // BEGIN itself failed (once inside, a no-op: `end` reports the outcome)
  transactions.set(tx, open);
  return handle;
}

// What every store needs is loaded before one is named (the thread can start before the
// configuration is read); the first request names it. Listening from the start also keeps this
// thread's loop busy while PGlite compiles (with an empty loop Node would first wait for the whole
// optimizing compilation).
const assets = loadPgliteAssets();
assets.catch(() => {}); // reported by the opening
let opening: Promise<PGlite> | undefined;
port.on('message', (request: Request) => {
  if (request.op === 'open') {
    opening = assets.then((loaded) => createPglite(request.dataDir, loaded));
    opening.then(
      () => post({ opened: true }),
      (error: unknown) => post({ failed: fieldsOf(error) }),
    );
    return;
  }
  (opening ?? Promise.reject(new Error('no store is open in this thread')))
    .then((db) => answer(db, request))
    .then(
      (result) => post({ id: request.id, result }),
      (error: unknown) => post({ id: request.id, error: fieldsOf(error) }),
    );
});
