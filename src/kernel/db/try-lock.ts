import type { Database } from './database.ts';

/**
 * Runs `work` only if no other process holds the lock `name` (a PostgreSQL advisory lock, held by
 * a transaction for the duration: it takes no transaction id, so it holds back no reader of the
 * log); resolves to false, without running it, when another process holds it. PGlite is one
 * process and one connection: the work simply runs.
 */
export async function whileHolding(db: Database, name: string, work: () => Promise<unknown>): Promise<boolean> {
  if (db.kind === 'pglite') return (await work(), true);
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ held: boolean }>('select pg_try_advisory_xact_lock(hashtext($1)) as held', [
      name,
    ]);
    if (!rows[0]?.held) return false;
    // A statement with parameters leaves its portal, and with it a snapshot, open until the next
    // statement: the idle transaction would hold back the xmin horizon (HOT pruning and vacuum of
    // every table) for as long as `work` runs. A statement without parameters closes it.
    await tx.exec('select');
    await work();
    return true;
  });
}
