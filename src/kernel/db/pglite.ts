import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { coalescedPerKey } from './coalesced.ts';
import { whenOpened, type Database, type OpeningDatabase, type Sql } from './database.ts';
import type { ErrorFields, Reply, Request } from './pglite-worker.ts';

/** A request as sent, before it is numbered (each member of the union without its id). */
type Op = Request extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

const WORKER = new URL(`./pglite-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/**
 * The worker's entry: its JavaScript in the build; from the sources (tests, `tsx`), a stub that
 * registers tsx in the thread first (Node 20 loads a worker's entry before its `--import` hooks).
 */
function workerEntry(): { entry: URL | string; eval: boolean } {
  if (!WORKER.pathname.endsWith('.ts')) return { entry: WORKER, eval: false };
  // require.resolve finds the CommonJS build of tsx's API; its ES module build is beside it.
  const tsx = pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const entry = `import(${JSON.stringify(tsx)}).then(({ register }) => (register(), import(${JSON.stringify(WORKER.href)})))`;
  return { entry, eval: true };
}

const errorOf = ({ message, ...fields }: ErrorFields): Error => Object.assign(new Error(message), fields);

/**
 * A parameter as it crosses to the worker: an object other than an array, a date or bytes (a JSON
 * value) as its JSON text, what PGlite would have sent for it, so that its `toJSON` still counts.
 */
const portable = (value: unknown): unknown =>
  value !== null &&
  typeof value === 'object' &&
  !Array.isArray(value) &&
  !(value instanceof Date) &&
  !(value instanceof Uint8Array)
    ? JSON.stringify(value)
    : value;

/**
 * PGlite in a worker thread (`pglite-worker.ts`), one request per message, the first naming the
 * store (`open`). The thread keeps the process alive only while a request is in flight, as PGlite
 * on this thread would.
 */
class PgliteThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  /** Transactions are numbered here, so that their statements need not wait for the BEGIN's answer. */
  private lastTx = 0;
  private lost: Error | undefined;
  private named = false;
  private opening: { resolve: () => void; reject: (error: Error) => void; store: string } | undefined;
  readonly notifications = new Map<string, Set<() => void>>();

  constructor() {
    const { entry, eval: isCode } = workerEntry();
    this.worker = new Worker(entry, { eval: isCode });
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => {
      if ('opened' in reply) this.opening?.resolve();
      else if ('failed' in reply) {
        this.fail(
          errorOf({
            ...reply.failed,
            message: `PGlite could not open ${this.opening?.store}: ${reply.failed.message}`,
          }),
        );
        void this.worker.terminate();
      } else if ('notify' in reply) for (const onNotify of this.notifications.get(reply.notify) ?? []) onNotify();
      else this.settle(reply);
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) =>
      this.fail(
        new Error(
          this.opening
            ? `PGlite could not open ${this.opening.store} (its thread exited with code ${code})`
            : 'the PGlite thread has stopped',
        ),
      ),
    );
  }

  /** Opens the store (a folder, or in memory when undefined); resolves once PGlite has started. */
  open(dataDir: string | undefined): Promise<void> {
    const opened = new Promise<void>((resolve, reject) => {
      const store = dataDir ?? 'a database in memory';
      this.opening = { resolve: () => ((this.opening = undefined), resolve()), reject, store };
    });
    opened.catch(() => {}); // reported to whoever awaits it
    this.named = true;
    this.worker.postMessage({ op: 'open', dataDir, id: 0 });
    return opened;
  }

  request<T>(op: Op): Promise<T> {
    if (this.lost) return Promise.reject(this.lost);
    const id = this.nextId++;
    if (this.pending.size === 0) this.worker.ref();
    this.worker.postMessage({ ...op, id });
    return new Promise<T>((resolve, reject) =>
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject }),
    );
  }

  /** Begins a transaction; its statements may be sent at once, and its end reports a failed BEGIN. */
  begin(): number {
    const tx = ++this.lastTx;
    this.request({ op: 'begin', tx }).catch(() => {});
    return tx;
  }

  async close(): Promise<void> {
    if (this.named && !this.lost) await this.request({ op: 'close' });
    await this.worker.terminate();
  }

  private fail(error: Error): void {
    this.lost ??= error;
    this.opening?.reject(error);
    this.opening = undefined;
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }

  private settle(reply: Extract<Reply, { id: number }>): void {
    const request = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if ('error' in reply) request?.reject(errorOf(reply.error));
    else request?.resolve(reply.result);
  }
}

/** A thread started before its store is named (`warmUpPglite`), taken by the next `startPglite`. */
let warm: PgliteThread | undefined;

/**
 * Starts PGlite's thread ahead of the store (`tributary start`, before its configuration and
 * modules load): Node's boot in the thread, PGlite's module and its compiled WebAssembly are ready
 * by the time the store is opened.
 */
export function warmUpPglite(): void {
  warm ??= new PgliteThread();
}

/** Ends a thread started ahead that no store will use (the configuration names PostgreSQL). */
export function discardWarmPglite(): void {
  void warm?.close();
  warm = undefined;
}

const atOnce = (callback: () => void) => callback();

const sqlOf = (thread: PgliteThread, scope: object, tx?: number, onCommit = atOnce): Sql => ({
  scope,
  onCommit,
  query<Row>(text: string, params?: unknown[]) {
    return thread.request<{ rows: Row[]; rowCount: number }>({ op: 'query', text, params: params?.map(portable), tx });
  },
  async exec(text) {
    await thread.request({ op: 'exec', text, tx });
  },
});

/** PGlite in `dataDir` (a folder, created when missing) or in memory when `dataDir` is undefined. */
export async function openPglite(dataDir?: string): Promise<Database> {
  return whenOpened(startPglite(dataDir));
}

/** `openPglite` without waiting: PGlite starts in its thread while this one goes on. */
export function startPglite(dataDir?: string): OpeningDatabase {
  const thread = warm ?? new PgliteThread();
  warm = undefined;
  return { db: pgliteDatabase(thread), opened: thread.open(dataDir) };
}

/** The Database interface over the thread: a transaction is held open in the worker between its begin and end. */
function pgliteDatabase(thread: PgliteThread): Database {
  const scope = {};
  let closed = false;
  return {
    kind: 'pglite',
    ...sqlOf(thread, scope),
    // PGlite is one connection: its transaction holds it, so transactions run one at a time.
    async transaction(fn) {
      const tx = thread.begin();
      const committed = new Set<() => void>(); // the same callback once, however many appends asked
      let result;
      try {
        result = await fn(sqlOf(thread, scope, tx, (callback) => committed.add(callback)));
      } catch (error) {
        await thread.request({ op: 'end', tx, commit: false }).catch(() => {}); // the first error is the one to report
        throw error;
      }
      await thread.request({ op: 'end', tx, commit: true });
      for (const callback of committed) callback();
      return result;
    },
    listen(channel, onNotify) {
      const name = `${channel}_public`;
      const listeners = thread.notifications.get(name) ?? new Set();
      thread.notifications.set(name, listeners.add(onNotify));
      // Without the notification readers still see this process's appends at once (the store's signal).
      const listening = thread.request({ op: 'listen', channel: name }).catch(() => undefined);
      return async () => {
        listeners.delete(onNotify);
        await listening;
        if (listeners.size === 0 && !closed) await thread.request({ op: 'unlisten', channel: name }).catch(() => {});
      };
    },
    notify: coalescedPerKey(
      async (channel) =>
        !closed &&
        (await thread.request({ op: 'query', text: 'select pg_notify($1, $2)', params: [`${channel}_public`, ''] })),
      0,
    ),
    async close() {
      if (closed) return;
      closed = true;
      await thread.close();
    },
  };
}
