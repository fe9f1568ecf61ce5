import type { Sql } from '../kernel/db/database.ts';
import type { GatewayCharge } from '../services/payments/gateway/index.ts';

/** The PaymentProcessed fields the invariants need (the same in every schema version). */
export interface RecordedPayment {
  paymentId: string;
  customerId: string;
  subscriptionId: string | null;
  purpose: 'registration' | 'renewal';
  gatewayReference: string;
  processedAt: string;
}

export interface RecordedRefund {
  paymentId: string;
  gatewayReference: string;
}

export interface RecordedCancellation {
  subscriptionId: string;
  customerId: string;
  effectiveAt: string;
}

/** Everything the money invariants are checked against, read once: the gateway's records and the platform's. */
export interface MoneyFacts {
  charges: GatewayCharge[];
  payments: RecordedPayment[];
  refunds: RecordedRefund[];
  cancellations: RecordedCancellation[];
  invoicedPayments: Set<string>;
  /** payment id → the journal entry kinds posted for it (charge, settlement, refund...). */
  postings: Map<string, Set<string>>;
}

/** The data of every event of one type, read straight from the log (these fields exist in every version). */
export async function eventData<T>(sql: Sql, type: string): Promise<T[]> {
  const { rows } = await sql.query<{ data: T }>('select data from events where type = $1 order by position', [type]);
  return rows.map((row) => row.data);
}

export async function tableExists(sql: Sql, name: string): Promise<boolean> {
  const { rows } = await sql.query<{ found: string | null }>('select to_regclass($1)::text as found', [name]);
  return rows[0]?.found != null;
}

export async function readMoneyFacts(sql: Sql, listCharges: () => Promise<GatewayCharge[]>): Promise<MoneyFacts> {
  // The gateway is read first: a charge it shows is then judged against a log at least as recent.
  const charges = await listCharges();
  const payments = await eventData<RecordedPayment>(sql, 'PaymentProcessed');
  const refunds = await eventData<RecordedRefund>(sql, 'PaymentRefunded');
  const cancellations = await eventData<RecordedCancellation>(sql, 'SubscriptionCancelled');
  const invoiced = await sql.query<{ payment_id: string }>('select payment_id::text from invoices');
  const posted = await sql.query<{ payment_id: string; kind: string }>(
    'select distinct payment_id::text, kind from journal_entries',
  );
  const postings = new Map<string, Set<string>>();
  for (const row of posted.rows) {
    if (!postings.has(row.payment_id)) postings.set(row.payment_id, new Set());
    postings.get(row.payment_id)!.add(row.kind);
  }
  return {
    charges,
    payments,
    refunds,
    cancellations,
    invoicedPayments: new Set(invoiced.rows.map((row) => row.payment_id)),
    postings,
  };
}
