import type { Database } from './database.ts';

export interface Migration {
  /** Sortable, unique and never renamed once released, e.g. `0001_event_store`. */
  id: string;
  sql: string;
}

/**
 * Applies the migrations not yet recorded, in id order, in one transaction. A transaction-level
 * advisory lock (per schema) makes a second process wait and then find nothing left to do.
 */
export async function migrate(db: Database, migrations: readonly Migration[]): Promise<string[]> {
  // A migration several modules need (the guard function) is in each one's list: it runs once.
  const unique = new Map(migrations.map((migration) => [migration.id, migration]));
  const ordered = [...unique.values()].sort((a, b) => a.id.localeCompare(b.id));
  if (await allApplied(db, ordered)) return [];
  return db.transaction(async (tx) => {
    await tx.query(`select pg_advisory_xact_lock(hashtext(current_schema() || '.tributary_migrations'))`);
    await tx.exec(
      `create table if not exists schema_migrations (id text primary key, applied_at timestamptz not null default now())`,
    );
    const { rows } = await tx.query<{ id: string }>('select id from schema_migrations');
    const applied = new Set(rows.map((row) => row.id));
    const pending = ordered.filter((migration) => !applied.has(migration.id));
    for (const migration of pending) {
      await tx.exec(migration.sql);
      await tx.query('insert into schema_migrations (id) values ($1)', [migration.id]);
    }
    return pending.map((migration) => migration.id);
  });
}

/**
 * Whether every migration is recorded already, read without the lock: what a restart finds, in one
 * statement instead of a locked transaction of four (a migration, once recorded, stays recorded).
 */
async function allApplied(db: Database, migrations: readonly Migration[]): Promise<boolean> {
  try {
    const { rows } = await db.query<{ missing: number }>(
      'select count(*)::int as missing from unnest($1::text[]) as id where id not in (select id from schema_migrations)',
      [migrations.map((migration) => migration.id)],
    );
    return rows[0]?.missing === 0;
  } catch (error) {
    if ((error as { code?: unknown }).code === '42P01') return false; // no schema_migrations yet: a new store
    throw error;
  }
}
