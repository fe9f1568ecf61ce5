import type { Sql } from '../../kernel/db/database.ts';

/**
 * The number of the invoice of a payment, when the billing module has already issued it; null
 * otherwise. Billing is another module (and consumer group) that may not exist or may lag, so
 * the lookup first asks the catalog whether an `invoices` table with the columns it needs is
 * there: a failing statement would abort the handler's transaction.
 */
export async function findInvoiceNumber(tx: Sql, paymentId: string): Promise<string | null> {
  return (await findInvoiceNumbers(tx, [paymentId])).get(paymentId) ?? null;
}

/** `findInvoiceNumber` for several payments: the numbers issued, by payment id. */
export async function findInvoiceNumbers(tx: Sql, paymentIds: readonly string[]): Promise<Map<string, string>> {
  if (paymentIds.length === 0 || !(await hasInvoices(tx))) return new Map();
  const { rows } = await tx.query<{ payment_id: string; number: string }>(
    'select payment_id::text as payment_id, number::text as number from invoices where payment_id = any($1::uuid[])',
    [[...new Set(paymentIds)]],
  );
  return new Map(rows.map((row) => [row.payment_id, row.number]));
}

/** Databases (`Sql.scope`) known to have the invoices table: once created it stays, so it is asked once. */
const withInvoices = new WeakSet<object>();

async function hasInvoices(tx: Sql): Promise<boolean> {
  const scope = tx.scope ?? tx;
  if (withInvoices.has(scope)) return true;
  const { rows } = await tx.query<{ n: number }>(
    `select count(*)::int as n from information_schema.columns
     where table_schema = current_schema() and table_name = 'invoices' and column_name in ('number', 'payment_id')`,
  );
  if (Number(rows[0]?.n ?? 0) < 2) return false;
  withInvoices.add(scope);
  return true;
}
