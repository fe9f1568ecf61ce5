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
  | { op: 'begin' }
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
let nextTx = 1;
/** Open transactions: the handle their statements use, how to end them, and their end. */
const transactions = new Map<number, { tx: Transaction; end: (commit: boolean) => void; ended: Promise<unknown> }>();
const unlistens = new Map<string, () => Promise<void>>();

async function answer(db: PGlite, request: Exclude<Request, { op: 'open' }>): Promise<unknown> {
  switch (request.op) {
    case 'query': {
      const result = await (request.tx ? transactions.get(request.tx)!.tx : db).query(request.text, request.params);
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
    }
    case 'exec':
      await (request.tx ? transactions.get(request.tx)!.tx : db).exec(request.text);
      return undefined;
    case 'begin':
      return begin(db);
    case 'end': {
      const open = transactions.get(request.tx)!;
      transactions.delete(request.tx);
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

/** Starts a transaction, held open until its `end` request: resolves with its number once inside. */
function begin(db: PGlite): Promise<number> {
  const id = nextTx++;
  return new Promise((inside, failed) => {
    const ended = db.transaction(
      (tx) =>
        new Promise((commit, rollback) => {
          transactions.set(id, { tx, end: (ok) => (ok ? commit(undefined) : rollback(ROLLBACK)), ended });
          inside(id);
        }),
    );
    ended.catch(failed); // BEGIN itself failed (after `inside`, a no-op: `end` reports the outcome)
  });
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
