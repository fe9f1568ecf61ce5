import type { Sql } from '../kernel/db/database.ts';

/** A column of a view table as `json_to_recordset` reads it: name and SQL type. */
export type Column = readonly [name: string, type: string];

/**
 * Inserts or replaces many rows of a view table with one statement: the rows travel as one JSON
 * array and `json_to_recordset` (plain json parses faster than jsonb) turns them back into a
 * relation, so a batch of events is one round trip, not one per event. Rows are keyed by `key`;
 * times are strings PostgreSQL reads (ISO, or its own text output).
 */
export async function upsertRows(
  tx: Sql,
  table: string,
  columns: readonly Column[],
  key: string,
  rows: readonly Record<string, unknown>[],
): Promise<void> {
  if (rows.length === 0) return;
  const names = columns.map(([name]) => name).join(', ');
  const types = columns.map(([name, type]) => `${name} ${type}`).join(', ');
  const updates = columns
    .filter(([name]) => name !== key)
    .map(([name]) => `${name} = excluded.${name}`)
    .join(', ');
  await tx.query(
    `insert into ${table} (${names}) select ${names} from json_to_recordset($1::json) as r(${types}) on conflict (${key}) do update set ${updates}`,
    [JSON.stringify(rows)],
  );
}
