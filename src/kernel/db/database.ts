export interface QueryOptions {
  /**
   * One of a few fixed texts run at every step of a hot path, whose plans are all key lookups (so
   * a cached plan never goes bad as tables grow): PostgreSQL parses and plans it once per
   * connection (a named prepared statement) instead of at every call. PGlite ignores it.
   */
  prepared?: boolean;
}

/** The one SQL surface the kernel uses, implemented by PostgreSQL (`pg`) and PGlite. */
export interface Sql {
  /** One statement, with `$n` parameters. */
  query<Row = Record<string, unknown>>(
    text: string,
    params?: unknown[],
    options?: QueryOptions,
  ): Promise<{ rows: Row[]; rowCount: number }>;
  /** Several statements, no parameters (migrations). */
  exec(text: string): Promise<void>;
  /**
   * The same object for a database and each of its transactions: what a cache of rows that never
   * change once committed (a platform secret) is kept by, so a transaction does not read them again.
   */
  readonly scope?: object;
  /**
   * Runs `callback` once what was written through this Sql is committed: at once on the database
   * itself (each statement commits), after COMMIT in a transaction, never when it rolls back.
   */
  onCommit(callback: () => void): void;
}

export interface Database extends Sql {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  /**
   * Calls `onNotify` at each notification on `channel` of this database's schema (`LISTEN
   * channel_schema`, sent after commit by any connection or process); kept up across lost
   * connections (`onNotify` is also called after reconnecting: a notification may have been
   * missed). Returns how to stop listening.
   */
  listen(channel: string, onNotify: () => void): () => Promise<void>;
  /**
   * Wakes the listeners of `channel` in every process. Sent from outside any transaction, so
   * callers send it after their commit: a commit that notifies holds PostgreSQL's notification
   * lock until its WAL is flushed, which lines up every such commit behind the others. A burst
   * of calls is sent as one notification.
   */
  notify(channel: string): void;
  close(): Promise<void>;
}

/** A database whose statements wait until it has opened (they fail if it cannot), and its opening. */
export interface OpeningDatabase {
  db: Database;
  opened: Promise<void>;
}

/** The database once it has opened; closed again when it cannot open, and the error thrown. */
export async function whenOpened({ db, opened }: OpeningDatabase): Promise<Database> {
  await opened.catch(async (error: unknown) => {
    await db.close().catch(() => {}); // the opening's error is the one to report
    throw error;
  });
  return db;
}

/** A failure to reach the database, as opposed to a failing statement. */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
}
