import { Worker } from 'node:worker_threads';

/** A file to put in place whole: written aside as `partial`, then renamed to `path`. */
export interface FileToWrite {
  partial: string;
  path: string;
  content: string;
}

/**
 * The thread's code, plain CommonJS (a worker runs it as given, under tsx, vitest or the compiled
 * platform alike): each request is a list of files, each written aside and renamed synchronously,
 * and one reply says which failed.
 */
const THREAD = /* js */ `
const { parentPort } = require('node:worker_threads');
const { mkdirSync, renameSync, writeFileSync } = require('node:fs');
const { dirname } = require('node:path');
const made = new Set();
parentPort.on('message', ({ id, files }) => {
  const errors = files.map(({ partial, path, content }) => {
    try {
      const dir = dirname(path);
      if (!made.has(dir)) {
        mkdirSync(dir, { recursive: true });
        made.add(dir);
      }
      writeFileSync(partial, content);
      renameSync(partial, path);
      return null;
    } catch (error) {
      made.clear();
      return { message: error.message, code: error.code };
    }
  });
  parentPort.postMessage({ id, errors });
});
`;

/** Threads writing at once: the file system's work per file is mostly the kernel's, on either core. */
const THREADS = 2;

interface Pending {
  thread: Thread;
  settle: ((error: Error | null) => void)[];
}

interface Thread {
  worker: Worker;
  inFlight: number;
}

/**
 * Writes the mailbox's files in threads of their own. Four file system calls per email through
 * the thread pool (open, write, close, rename) cost the consumers' thread more than composing
 * and sealing the email: here the files a tick asked for go to the threads in one message each
 * (half to each), and a thread writes its share one file after the other, synchronously.
 *
 * `write` resolves once the file is in place under its name (the same promise as before: an
 * email counts as sent only then). The threads are made on first use, hold the process open only
 * while writes are in flight, and are made again if one dies.
 */
export class MailboxWriter {
  private threads: (Thread | undefined)[] = [];
  private queued: { files: FileToWrite[]; settle: Pending['settle'] } | undefined;
  private readonly inFlight = new Map<number, Pending>();
  private nextId = 0;

  write(file: FileToWrite): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.queued) {
        this.queued = { files: [], settle: [] };
        queueMicrotask(() => this.flush());
      }
      this.queued.files.push(file);
      this.queued.settle.push((error) => (error ? reject(error) : resolve()));
    });
  }

  async close(): Promise<void> {
    const threads = this.threads;
    this.threads = [];
    for (const thread of threads) if (thread) this.fail(thread, new Error('the mailbox writer was closed'));
    await Promise.all(threads.map((thread) => thread?.worker.terminate()));
  }

  private flush(): void {
    const { files, settle } = this.queued!;
    this.queued = undefined;
    const share = Math.ceil(files.length / THREADS);
    for (let index = 0, from = 0; from < files.length; index++, from += share) {
      const thread = (this.threads[index] ??= this.start(index));
      const id = this.nextId++;
      this.inFlight.set(id, { thread, settle: settle.slice(from, from + share) });
      if (thread.inFlight++ === 0) thread.worker.ref();
      thread.worker.postMessage({ id, files: files.slice(from, from + share) });
    }
  }

  private start(index: number): Thread {
    const thread: Thread = { worker: new Worker(THREAD, { eval: true }), inFlight: 0 };
    const { worker } = thread;
    worker.on('message', ({ id, errors }: { id: number; errors: ({ message: string; code?: string } | null)[] }) => {
      const pending = this.inFlight.get(id);
      if (!pending) return;
      this.inFlight.delete(id);
      if (--thread.inFlight === 0) worker.unref();
      pending.settle.forEach((settle, at) => {
        const error = errors[at];
        settle(error ? Object.assign(new Error(error.message), { code: error.code }) : null);
      });
    });
    const died = (error: Error) => {
      if (this.threads[index] !== thread) return;
      this.threads[index] = undefined;
      this.fail(thread, error);
    };
    worker.on('error', died);
    worker.on('exit', (code) => died(new Error(`a mailbox writer thread stopped (exit code ${code})`)));
    return thread;
  }

  /** Rejects the thread's writes in flight: nothing says whether they were made, so their emails are retried. */
  private fail(thread: Thread, error: Error): void {
    for (const [id, pending] of this.inFlight) {
      if (pending.thread !== thread) continue;
      this.inFlight.delete(id);
      for (const settle of pending.settle) settle(error);
    }
    thread.inFlight = 0;
  }
}
