import type { Database } from '../kernel/db/database.ts';

/**
 * Runs `work` only if no other process is running work of that name (PostgreSQL advisory lock,
 * held by a transaction for the duration); resolves to false when another process holds it.
 * PGlite is one process and one connection: the work simply runs.
 */
export async function asLeader(db: Database, name: string, work: () => Promise<unknown>): Promise<boolean> {
  if (db.kind === 'pglite') return (await work(), true);
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ held: boolean }>('select pg_try_advisory_xact_lock(hashtext($1)) as held', [`tributary.leader:${name}`]);
    if (!rows[0]?.held) return false;
    await work();
    return true;
  });
}
