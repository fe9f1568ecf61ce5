import pg from 'pg';
import { randomBytes } from 'node:crypto';
import type { Database } from '../../src/kernel/db/database.ts';
import { openPostgres } from '../../src/kernel/db/postgres.ts';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Whether the PostgreSQL suites can run. With REQUIRE_POSTGRES=1 (CI) an unreachable server
 * throws, so the run fails instead of silently skipping them.
 */
export async function postgresAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch (error) {
    if (process.env.REQUIRE_POSTGRES === '1')
      throw new Error(
        `REQUIRE_POSTGRES=1 but PostgreSQL at ${TEST_DATABASE_URL} is unreachable: ${(error as Error).message}`,
      );
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export const uniqueName = (prefix: string): string => `${prefix}_${randomBytes(5).toString('hex')}`;

/** A database in a schema of its own; `close` drops the schema and its views'. */
export async function openTestPostgres(options: { poolSize?: number } = {}): Promise<Database & { schema: string }> {
  const schema = uniqueName('t');
  const db = await openPostgres({ url: TEST_DATABASE_URL, schema, poolSize: options.poolSize ?? 10 });
  return {
    ...db,
    schema,
    async close() {
      await dropSchemaAndViews(schema).catch(() => {});
      await db.close();
    },
  };
}

/** Drops a schema and its views' schemas, which are named after it (`<schema>_customer_view`...). */
export function dropSchemaAndViews(schema: string): Promise<void> {
  return adminQuery(`do $$ declare s text; begin
    for s in select nspname from pg_namespace where nspname = '${schema}' or starts_with(nspname, '${schema}_') loop
      execute format('drop schema %I cascade', s);
    end loop; end $$`);
}

/** Runs one statement as the test database's owner, on a connection of its own. */
export async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A DATABASE_URL whose search_path is a new, empty schema (for platforms run as processes). */
export async function freshDatabaseUrl(prefix = 'e'): Promise<{ schema: string; url: string; drop(): Promise<void> }> {
  const schema = uniqueName(prefix);
  await adminQuery(`create schema ${schema}`);
  return {
    schema,
    url: `${TEST_DATABASE_URL}?options=-c%20search_path%3D${schema}`,
    drop: () => dropSchemaAndViews(schema),
  };
}
