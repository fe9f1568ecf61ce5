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

interface Pending {
  files: FileToWrite[];
  settle: ((error: Error | null) => void)[];
}

/**
 * Writes the mailbox's files in a thread of its own. Four file system calls per email through
 * the thread pool (open, write, close, rename) cost the consumers' thread more than composing
 * and sealing the email: here the files a tick asked for go to the thread as one message, and
 * the thread writes them one after the other, synchronously, off the consumers' thread.
 *
 * `write` resolves once the file is in place under its name (the same promise as before: an
 * email counts as sent only then). The thread is made on first use, holds the process open only
 * while writes are in flight, and is made again if it dies.
 */
export class MailboxWriter {
  private worker: Worker | undefined;
  private queued: Pending | undefined;
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
    const worker = this.worker;
    this.worker = undefined;
    this.fail(new Error('the mailbox writer was closed'));
    await worker?.terminate();
  }

  private flush(): void {
    const pending = this.queued!;
    this.queued = undefined;
    const id = this.nextId++;
    this.inFlight.set(id, pending);
    const worker = (this.worker ??= this.start());
    worker.ref();
    worker.postMessage({ id, files: pending.files });
  }

  private start(): Worker {
    const worker = new Worker(THREAD, { eval: true });
    worker.on('message', ({ id, errors }: { id: number; errors: ({ message: string; code?: string } | null)[] }) => {
      const pending = this.inFlight.get(id);
      if (!pending) return;
      this.inFlight.delete(id);
      if (this.inFlight.size === 0) worker.unref();
      pending.settle.forEach((settle, index) => {
        const error = errors[index];
        settle(error ? Object.assign(new Error(error.message), { code: error.code }) : null);
      });
    });
    const died = (error: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.fail(error);
    };
    worker.on('error', died);
    worker.on('exit', (code) => died(new Error(`the mailbox writer stopped (exit code ${code})`)));
    return worker;
  }

  /** Rejects every write in flight: nothing says whether it was made, so its email is retried. */
  private fail(error: Error): void {
    for (const pending of this.inFlight.values()) for (const settle of pending.settle) settle(error);
    this.inFlight.clear();
  }
}
