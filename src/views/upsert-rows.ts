import type { Sql } from '../kernel/db/database.ts';

/** A column of a view table as `json_to_recordset` reads it: name and SQL type. */
export type Column = readonly [name: string, type: string];

/**
 * Inserts or replaces many rows of a view table with one statement: the rows travel as one JSON
 * array and `json_to_recordset` (plain json parses faster than jsonb) turns them back into a
 * relation, so a batch of events is one round trip, not one per event. Rows are keyed by `key`;
 * times are strings PostgreSQL reads (ISO, or its own text output). With `arrays`, the rows
 * travel as one array per column (`unnestRows`), which PostgreSQL reads faster when they are wide.
 */
export async function upsertRows(
  tx: Sql,
  table: string,
  columns: readonly Column[],
  key: string,
  rows: readonly Record<string, unknown>[],
  { arrays = false } = {},
): Promise<void> {
  if (rows.length === 0) return;
  if (arrays) return writeTogether(tx, [upsertWrite(table, columns, key, rows)]);
  const types = columns.map(([name, type]) => `${name} ${type}`).join(', ');
  await tx.query(upsertFrom(table, columns, key, `json_to_recordset($1::json) as r(${types})`), [JSON.stringify(rows)]);
}

/** A statement whose parameters are numbered from `first` (`$first`, `$first+1`...). */
export type Write = (first: number) => { text: string; params: string[] };

/** `upsertRows` with `arrays`, as a write to run together with others. */
export const upsertWrite =
  (table: string, columns: readonly Column[], key: string, rows: readonly Record<string, unknown>[]): Write =>
  (first) => {
    const { relation, params } = unnestRows(columns, rows, first);
    return { text: upsertFrom(table, columns, key, relation), params };
  };

/**
 * Runs the writes as one statement (all but the last in a WITH): one round trip for a batch's
 * writes. They see the same snapshot, not each other's changes: each must touch rows no other does.
 */
export async function writeTogether(tx: Sql, writes: readonly Write[]): Promise<void> {
  let first = 1;
  const built = writes.map((write) => {
    const statement = write(first);
    first += statement.params.length;
    return statement;
  });
  const last = built.pop();
  if (!last) return;
  const before = built.map((statement, i) => `w${i} as (${statement.text})`);
  await tx.query(before.length > 0 ? `with ${before.join(', ')} ${last.text}` : last.text, [
    ...built.flatMap((statement) => statement.params),
    ...last.params,
  ]);
}

function upsertFrom(table: string, columns: readonly Column[], key: string, relation: string): string {
  const names = columns.map(([name]) => name).join(', ');
  const updates = columns
    .filter(([name]) => name !== key)
    .map(([name]) => `${name} = excluded.${name}`)
    .join(', ');
  return `insert into ${table} (${names}) select ${names} from ${relation} on conflict (${key}) do update set ${updates}`;
}

/**
 * Rows as the relation `r` of a FROM clause: one array parameter per column, unnested side by
 * side (the first parameter numbered `first`). PostgreSQL reads typed arrays faster than `json_to_recordset` reads objects (no key to look
 * up per field), which counts for wide rows written by the thousand.
 */
export function unnestRows(
  columns: readonly Column[],
  rows: readonly Record<string, unknown>[],
  first = 1,
): { relation: string; params: string[] } {
  const arrays = columns.map(([name]) => arrayLiteral(rows.map((row) => row[name])));
  const unnested = columns.map(([, type], i) => `$${first + i}::${type}[]`).join(', ');
  const names = columns.map(([name]) => name).join(', ');
  return { relation: `unnest(${unnested}) as r(${names})`, params: arrays };
}

/**
 * An array's text literal (`{"a",NULL,"b"}`), written in one join: the driver's own conversion
 * builds it element by element through generic value handling, a second or so per million rows.
 */
function arrayLiteral(values: readonly unknown[]): string {
  return `{${values.map(arrayElement).join(',')}}`;
}

function arrayElement(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value !== 'string') throw new TypeError(`not an array element of a view row: ${typeof value}`);
  return ESCAPED.test(value) ? `"${value.replace(/[\\"]/g, '\\$&')}"` : `"${value}"`;
}

const ESCAPED = /[\\"]/;
