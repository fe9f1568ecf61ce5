import type { Database } from '../db/database.ts';

type Tx = Pick<Database, 'exec' | 'query'>;

/**
 * A rebuild's shadow schema is written without WAL (its tables UNLOGGED) and made durable once
 * filled, before it is swapped in: a crash meanwhile loses nothing, as a rebuild starts its shadow
 * afresh. `SET LOGGED` rewrites each table once, which costs far less than logging every batch's
 * writes (a subscription's row is rewritten at each of its renewals).
 */
export async function setShadowLogging(tx: Tx, schema: string, logged: boolean): Promise<void> {
  const { rows } = await tx.query<{ name: string }>(
    `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = $1 and c.relkind = 'r' and c.relpersistence = $2`,
    [schema, logged ? 'u' : 'p'],
  );
  if (rows.length === 0) return;
  const mode = logged ? 'logged' : 'unlogged';
  await tx.exec(rows.map(({ name }) => `alter table ${schema}.${name} set ${mode};`).join('\n'));
}
