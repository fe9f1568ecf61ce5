import type { Sql } from '../kernel/db/database.ts';
import type { Violation } from './violation.ts';

/** Debits equal credits in every currency (a debit is a positive line, a credit a negative one). */
export async function ledgerViolations(sql: Sql): Promise<Violation[]> {
  const { rows } = await sql.query<{ currency: string; difference: string }>(
    'select currency, sum(amount)::text as difference from journal_lines group by currency having sum(amount) <> 0 order by currency',
  );
  return rows.map((row) => ({
    kind: 'ledger_unbalanced' as const,
    message: `the ledger's debits and credits in ${row.currency} differ by ${row.difference}`,
    currency: row.currency,
  }));
}
