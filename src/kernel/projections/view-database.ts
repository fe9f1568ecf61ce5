import type { Database } from '../db/database.ts';
import { openPostgres } from '../db/postgres.ts';

/**
 * The read database of a view: its own PostgreSQL when `url` is set, else the platform's database
 * (the view then lives in a schema of its own beside the platform's tables).
 */
export async function openViewDatabase(url: string | undefined, platformDb: Database, poolSize: number): Promise<{ db: Database; own: boolean }> {
  if (!url) return { db: { ...platformDb, close: async () => {} }, own: false };
  return { db: await openPostgres({ url, poolSize }), own: true };
}

/**
 * A view's schema: its base name (`customer_view`) in a database whose tables live in `public`,
 * else prefixed with the current schema, so platforms sharing one PostgreSQL database in
 * schemas of their own (tests, staging) keep their views apart too.
 */
export async function viewSchemaName(db: Database, base: string): Promise<string> {
  const { rows } = await db.query<{ schema: string }>('select current_schema() as schema');
  const current = rows[0]?.schema ?? 'public';
  const name = current === 'public' ? base : `${current}_${base}`;
  if (!/^[a-z_][a-z0-9_]{0,50}$/.test(name)) throw new Error(`invalid view schema name: ${name}`);
  return name;
}
