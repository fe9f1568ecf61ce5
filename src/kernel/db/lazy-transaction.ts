import type { Database, QueryOptions, Sql } from './database.ts';

/** Thrown inside the transaction to roll it back (the unit of work failed outside it). */
const ROLL_BACK = Symbol('roll back');

/**
 * A transaction begun by its first statement. A unit of work whose only statement is its
 * `last` (a saga step that read nothing and folded its writes into its checkpoint) runs as
 * that one statement, committed by itself: no BEGIN, no COMMIT, no held connection. Anything
 * else runs in a transaction as usual. Nothing may follow `last`.
 */
export class LazyTransaction implements Sql {
  readonly scope?: object;
  private tx: Promise<Sql> | undefined;
  private decide: ((commit: boolean) => void) | undefined;
  private ended: Promise<void> | undefined;
  private closed = false;
  private readonly committed = new Set<() => void>();

  constructor(private readonly db: Database) {
    this.scope = db.scope;
  }

  async query<Row = Record<string, unknown>>(text: string, params?: unknown[], options?: QueryOptions) {
    this.assertOpen();
    return (await this.begin()).query<Row>(text, params, options);
  }

  async exec(text: string): Promise<void> {
    this.assertOpen();
    await (await this.begin()).exec(text);
  }

  /** The unit's last statement: alone (it commits by itself) when nothing came before it. */
  async last<Row = Record<string, unknown>>(text: string, params?: unknown[], options?: QueryOptions) {
    this.assertOpen();
    this.closed = true;
    return (this.tx ? await this.tx : this.db).query<Row>(text, params, options);
  }

  onCommit(callback: () => void): void {
    this.committed.add(callback);
  }

  /** Commits (or rolls back) what was begun; runs the commit callbacks once it is committed. */
  async end(commit: boolean): Promise<void> {
    this.closed = true;
    if (this.tx) {
      await this.tx.catch(() => undefined);
      this.decide?.(commit);
      await this.ended!.catch((error: unknown) => {
        if (commit || error !== ROLL_BACK) throw error;
      });
    }
    if (commit) for (const callback of this.committed) callback();
  }

  private begin(): Promise<Sql> {
    this.tx ??= new Promise<Sql>((resolve, reject) => {
      const decided = new Promise<boolean>((settle) => (this.decide = settle));
      this.ended = this.db.transaction(async (tx) => {
        resolve(tx);
        if (!(await decided)) throw ROLL_BACK;
      });
      this.ended.catch(reject); // a transaction that could not begin
    });
    return this.tx;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('a statement after the last one of a lazy transaction');
  }
}

/** `text` as the last statement of `sql`'s unit of work (see LazyTransaction.last); any other Sql just runs it. */
export const lastStatement = <Row = Record<string, unknown>>(
  sql: Sql,
  text: string,
  params: unknown[],
  options?: QueryOptions,
) => (sql instanceof LazyTransaction ? sql.last<Row>(text, params, options) : sql.query<Row>(text, params, options));

/** Runs `work` in a LazyTransaction: committed when it resolves, rolled back when it throws. */
export async function lazyTransaction<T>(db: Database, work: (tx: LazyTransaction) => Promise<T>): Promise<T> {
  const tx = new LazyTransaction(db);
  let result: T;
  try {
    result = await work(tx);
  } catch (error) {
    await tx.end(false).catch(() => undefined);
    throw error;
  }
  await tx.end(true);
  return result;
}
