import pg from 'pg';
import { DatabaseUnavailableError, type Database, type Sql } from './database.ts';

// Positions and counts are bigint in SQL; they stay far below 2^53, so read them as numbers
// (PGlite does the same).
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface PostgresOptions {
  url: string;
  /** Schema to create and use (search_path); tests get one each. */
  schema?: string;
  poolSize?: number;
}

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', '57P01', '57P03']);

const translate = (error: unknown): never => {
  const code = (error as { code?: string }).code;
  if (code && CONNECTION_ERRORS.has(code)) {
    throw new DatabaseUnavailableError(`PostgreSQL unavailable: ${(error as Error).message}`, { cause: error });
  }
  throw error;
};

const sqlOf = (client: pg.Pool | pg.PoolClient): Sql => ({
  async query(text, params) {
    const result = await client.query(text, params as unknown[]).catch(translate);
    return { rows: result.rows, rowCount: result.rowCount ?? 0 };
  },
  async exec(text) {
    await client.query(text).catch(translate);
  },
});

export async function openPostgres(options: PostgresOptions): Promise<Database> {
  const schema = options.schema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 20,
    connectionTimeoutMillis: 5_000,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', () => {});
  if (schema) await pool.query(`create schema if not exists ${schema}`).catch(translate);
  const base = sqlOf(pool);
  return {
    kind: 'postgres',
    ...base,
    async transaction(fn) {
      const client = await pool.connect().catch(translate);
      try {
        await client.query('begin');
        const result = await fn(sqlOf(client));
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}
