import type { Sql } from '../kernel/db/database.ts';
import { tableExists } from './money-facts.ts';
import type { Violation } from './violation.ts';

/**
 * No payment intent is left without an outcome (pending, or a refund still due) longer than the
 * reconciler's window. Before payment intents exist in this store the check passes vacuously.
 */
export async function intentViolations(sql: Sql, windowMs: number): Promise<Violation[]> {
  if (!(await tableExists(sql, 'payment_intents'))) return [];
  const { rows } = await sql.query<{
    idempotency_key: string;
    payment_id: string;
    customer_id: string;
    status: string;
    updated_at: Date;
  }>(
    `select idempotency_key, payment_id, customer_id, status, updated_at from payment_intents
     where updated_at < clock_timestamp() - $1 * interval '1 millisecond'
       -- a pending intent the reconciler found no charge for is being re-checked, not left alone
       and (status = 'refund_due' or (status = 'pending' and attempts = 0))
     order by updated_at`,
    // Intents keep the database's time (operational, not the business clock a test moves by months).
    [windowMs],
  );
  return rows.map((row) => ({
    kind: 'intent_unsettled' as const,
    message: `payment intent ${row.idempotency_key} is still ${row.status} since ${row.updated_at.toISOString()} (window ${windowMs} ms)`,
    idempotencyKey: row.idempotency_key,
    paymentId: row.payment_id,
    customerId: row.customer_id,
  }));
}
