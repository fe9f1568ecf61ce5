import type { Database } from '../db/database.ts';

/**
 * The read database of a view: its own PostgreSQL when `url` is set, else the platform's database
 * (the view then lives in a schema of its own beside the platform's tables).
 */
export async function openViewDatabase(
  url: string | undefined,
  platformDb: Database,
  poolSize: number,
): Promise<{ db: Database; own: boolean }> {
  if (!url) return { db: { ...platformDb, close: async () => {} }, own: false };
  const { openPostgres } = await import('../db/postgres.ts'); // only for a view with a PostgreSQL of its own
  return { db: await openPostgres({ url, poolSize }), own: true };
}

/**
 * A view's schema: its base name (`customer_view`), prefixed with the schema the database URL
 * puts first on its search_path (`?options=-c search_path=staging` → `staging_customer_view`),
 * so platforms sharing one PostgreSQL database in schemas of their own keep their views apart.
 */
export function viewSchemaName(databaseUrl: string | undefined, base: string): string {
  const options = databaseUrl ? (new URL(databaseUrl).searchParams.get('options') ?? '') : '';
  const searchPath = /search_path\s*=\s*([^\s,]+)/.exec(options)?.[1];
  const name = searchPath && searchPath !== 'public' ? `${searchPath}_${base}` : base;
  if (!/^[a-z_][a-z0-9_]{0,50}$/.test(name)) throw new Error(`invalid view schema name: ${name}`);
  return name;
}
