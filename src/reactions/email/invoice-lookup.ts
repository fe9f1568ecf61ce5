import type { Sql } from '../../kernel/db/database.ts';

/**
 * The number of the invoice of a payment, when the billing module has already issued it; null
 * otherwise. Billing is another module (and consumer group) that may not exist or may lag, so
 * the lookup first asks the catalog whether an `invoices` table with the columns it needs is
 * there: a failing statement would abort the handler's transaction.
 */
export async function findInvoiceNumber(tx: Sql, paymentId: string): Promise<string | null> {
  const { rows: columns } = await tx.query<{ n: number }>(
    `select count(*)::int as n from information_schema.columns
     where table_schema = current_schema() and table_name = 'invoices' and column_name in ('number', 'payment_id')`,
  );
  if (Number(columns[0]?.n ?? 0) < 2) return null;
  const { rows } = await tx.query<{ number: string }>('select number::text as number from invoices where payment_id = $1 limit 1', [paymentId]);
  return rows[0]?.number ?? null;
}
