import { v5 as uuidv5 } from 'uuid';
import type { Period } from '../../domain/events/common.ts';
import type { Sql } from '../../kernel/db/database.ts';

/** Invoice ids derive from the payment: whichever event issues the invoice, its id is the same. */
const INVOICE_ID_NAMESPACE = 'b3c1d0a4-6f0e-4c55-9f3e-0d1f6a8e2b71';

export interface InvoiceLine {
  description: string;
  planId: string;
  period: Period;
  quantity: number;
  /** Net of tax, minor units. */
  unitAmount: number;
  amount: number;
}

export interface Invoice {
  id: string;
  number: string;
  paymentId: string;
  customerId: string;
  subscriptionId: string | null;
  purpose: 'registration' | 'renewal';
  periodIndex: number;
  planId: string;
  lines: InvoiceLine[];
  currency: string;
  subtotal: number;
  tax: number;
  taxRateBps: number;
  total: number;
  status: 'paid';
  paymentReference: string;
  paymentMethod: { brand: string; last4: string };
  issuedAt: string;
  createdAt: string;
}

export type NewInvoice = Omit<Invoice, 'id' | 'number' | 'status' | 'createdAt'> & { sourceEventId: string };

interface InvoiceRow {
  id: string;
  number: string;
  payment_id: string;
  customer_id: string;
  subscription_id: string | null;
  purpose: 'registration' | 'renewal';
  period_index: number;
  plan_id: string;
  lines: InvoiceLine[];
  currency: string;
  subtotal: number | string;
  tax: number | string;
  tax_rate_bps: number;
  total: number | string;
  status: 'paid';
  payment_reference: string;
  payment_method: { brand: string; last4: string };
  issued_at: Date;
  created_at: Date;
}

const COLUMNS = `id, number, payment_id, customer_id, subscription_id, purpose, period_index, plan_id, lines, currency,
  subtotal::int8 as subtotal, tax::int8 as tax, tax_rate_bps, total::int8 as total, status, payment_reference, payment_method, issued_at, created_at`;

const fromRow = (row: InvoiceRow): Invoice => ({
  id: row.id,
  number: row.number,
  paymentId: row.payment_id,
  customerId: row.customer_id,
  subscriptionId: row.subscription_id,
  purpose: row.purpose,
  periodIndex: row.period_index,
  planId: row.plan_id,
  lines: row.lines,
  currency: row.currency,
  subtotal: Number(row.subtotal),
  tax: Number(row.tax),
  taxRateBps: row.tax_rate_bps,
  total: Number(row.total),
  status: row.status,
  paymentReference: row.payment_reference,
  paymentMethod: row.payment_method,
  issuedAt: row.issued_at.toISOString(),
  createdAt: row.created_at.toISOString(),
});

/** Numbered per calendar year (UTC) of the charge, from 1, without gaps: `INV-2026-000001`. */
export const invoiceNumber = (year: number, sequence: number) => `INV-${year}-${String(sequence).padStart(6, '0')}`;

export const invoiceIdOf = (paymentId: string) => uuidv5(paymentId, INVOICE_ID_NAMESPACE);

export const isInvoiceNumber = (value: string) => /^INV-\d{4}-\d{6,}$/.test(value);

/**
 * Issues the invoice of a payment once: returns the invoice issued now, or null when the payment
 * already has one. The year's counter row is locked before looking again, so two transactions
 * issuing for the same payment (its two events handled at once) or for the same year queue on it:
 * the second sees the first's invoice, and a number is taken only together with its invoice.
 */
export async function issueInvoice(tx: Sql, invoice: NewInvoice, now: Date): Promise<Invoice | null> {
  if (await invoiceOfPayment(tx, invoice.paymentId)) return null;
  const year = new Date(invoice.issuedAt).getUTCFullYear();
  await tx.query('insert into invoice_counters (year, last_number) values ($1, 0) on conflict (year) do nothing', [
    year,
  ]);
  await tx.query('select last_number from invoice_counters where year = $1 for update', [year]);
  // Read committed: this statement sees an invoice committed while we waited for the lock.
  if (await invoiceOfPayment(tx, invoice.paymentId)) return null;
  const { rows: counter } = await tx.query<{ last_number: number }>(
    'update invoice_counters set last_number = last_number + 1 where year = $1 returning last_number',
    [year],
  );
  const sequence = counter[0]!.last_number;
  const { rows } = await tx.query<InvoiceRow>(
    `insert into invoices (id, number, year, sequence, payment_id, customer_id, subscription_id, purpose, period_index, plan_id, lines, currency,
       subtotal, tax, total, tax_rate_bps, status, payment_reference, payment_method, issued_at, created_at, source_event_id)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 'paid', $17, $18, $19, $20, $21)
     returning ${COLUMNS}`,
    [
      invoiceIdOf(invoice.paymentId),
      invoiceNumber(year, sequence),
      year,
      sequence,
      invoice.paymentId,
      invoice.customerId,
      invoice.subscriptionId,
      invoice.purpose,
      invoice.periodIndex,
      invoice.planId,
      JSON.stringify(invoice.lines),
      invoice.currency,
      invoice.subtotal,
      invoice.tax,
      invoice.total,
      invoice.taxRateBps,
      invoice.paymentReference,
      JSON.stringify(invoice.paymentMethod),
      invoice.issuedAt,
      now,
      invoice.sourceEventId,
    ],
  );
  return fromRow(rows[0]!);
}

/**
 * `issueInvoice` for several payments at once (a consumer's batch), in their order: one lock per
 * year touched (taken in year order, so two batches never wait on each other in a circle), the
 * numbers taken together, one insert. Payments that already have an invoice, or that come twice,
 * are skipped. Returns the invoices issued now.
 */
export async function issueInvoices(tx: Sql, invoices: readonly NewInvoice[], now: Date): Promise<Invoice[]> {
  const issued = await paymentsInvoiced(
    tx,
    invoices.map((invoice) => invoice.paymentId),
  );
  const years = new Map<number, NewInvoice[]>();
  for (const invoice of invoices) {
    if (issued.has(invoice.paymentId)) continue;
    issued.add(invoice.paymentId);
    const year = new Date(invoice.issuedAt).getUTCFullYear();
    const ofYear = years.get(year) ?? [];
    ofYear.push(invoice);
    years.set(year, ofYear);
  }
  const result: Invoice[] = [];
  for (const year of [...years.keys()].sort((a, b) => a - b)) {
    await tx.query('insert into invoice_counters (year, last_number) values ($1, 0) on conflict (year) do nothing', [
      year,
    ]);
    await tx.query('select last_number from invoice_counters where year = $1 for update', [year]);
    // Read committed: this statement sees invoices committed while we waited for the lock.
    const already = await paymentsInvoiced(
      tx,
      years.get(year)!.map((invoice) => invoice.paymentId),
    );
    const batch = years.get(year)!.filter((invoice) => !already.has(invoice.paymentId));
    if (batch.length === 0) continue;
    const { rows: counter } = await tx.query<{ last_number: number }>(
      'update invoice_counters set last_number = last_number + $2 where year = $1 returning last_number',
      [year, batch.length],
    );
    const first = counter[0]!.last_number - batch.length + 1;
    const column = <T>(value: (invoice: NewInvoice, index: number) => T) => batch.map(value);
    const { rows } = await tx.query<InvoiceRow>(
      `insert into invoices (id, number, year, sequence, payment_id, customer_id, subscription_id, purpose, period_index, plan_id, lines, currency,
         subtotal, tax, total, tax_rate_bps, status, payment_reference, payment_method, issued_at, created_at, source_event_id)
       select i.id, i.number, $3, i.sequence, i.payment_id, i.customer_id, i.subscription_id, i.purpose, i.period_index, i.plan_id, i.lines,
         i.currency, i.subtotal, i.tax, i.total, i.tax_rate_bps, 'paid', i.payment_reference, i.payment_method, i.issued_at, $4, i.source_event_id
       from unnest($1::uuid[], $2::text[], $5::int4[], $6::uuid[], $7::uuid[], $8::uuid[], $9::text[], $10::int4[], $11::text[], $12::jsonb[],
         $13::text[], $14::int8[], $15::int8[], $16::int8[], $17::int4[], $18::text[], $19::jsonb[], $20::timestamptz[], $21::uuid[])
         as i(id, number, sequence, payment_id, customer_id, subscription_id, purpose, period_index, plan_id, lines, currency, subtotal, tax, total,
           tax_rate_bps, payment_reference, payment_method, issued_at, source_event_id)
       returning ${COLUMNS}`,
      [
        column((invoice) => invoiceIdOf(invoice.paymentId)),
        column((_, index) => invoiceNumber(year, first + index)),
        year,
        now,
        column((_, index) => first + index),
        column((invoice) => invoice.paymentId),
        column((invoice) => invoice.customerId),
        column((invoice) => invoice.subscriptionId),
        column((invoice) => invoice.purpose),
        column((invoice) => invoice.periodIndex),
        column((invoice) => invoice.planId),
        column((invoice) => JSON.stringify(invoice.lines)),
        column((invoice) => invoice.currency),
        column((invoice) => invoice.subtotal),
        column((invoice) => invoice.tax),
        column((invoice) => invoice.total),
        column((invoice) => invoice.taxRateBps),
        column((invoice) => invoice.paymentReference),
        column((invoice) => JSON.stringify(invoice.paymentMethod)),
        column((invoice) => invoice.issuedAt),
        column((invoice) => invoice.sourceEventId),
      ],
    );
    result.push(...rows.map(fromRow));
  }
  return result;
}

/** The payments among these that have an invoice. */
export async function paymentsInvoiced(sql: Sql, paymentIds: readonly string[]): Promise<Set<string>> {
  if (paymentIds.length === 0) return new Set();
  const { rows } = await sql.query<{ payment_id: string }>(
    'select payment_id::text as payment_id from invoices where payment_id = any($1::uuid[])',
    [[...new Set(paymentIds)]],
  );
  return new Set(rows.map((row) => row.payment_id));
}

export async function invoiceOfPayment(sql: Sql, paymentId: string): Promise<Invoice | null> {
  const { rows } = await sql.query<InvoiceRow>(`select ${COLUMNS} from invoices where payment_id = $1`, [paymentId]);
  return rows[0] ? fromRow(rows[0]) : null;
}

/** By id (UUID) or number (`INV-2026-000001`). */
export async function findInvoice(sql: Sql, idOrNumber: string): Promise<Invoice | null> {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrNumber);
  if (!uuid && !isInvoiceNumber(idOrNumber)) return null;
  const { rows } = await sql.query<InvoiceRow>(
    `select ${COLUMNS} from invoices where ${uuid ? 'id = $1::uuid' : 'number = $1'}`,
    [idOrNumber],
  );
  return rows[0] ? fromRow(rows[0]) : null;
}

/** Invoices in issue order (oldest first), optionally of one customer; `after` is the previous page's cursor. */
export async function listInvoices(
  sql: Sql,
  options: { customerId?: string; limit: number; after?: { issuedAt: string; number: string } },
): Promise<Invoice[]> {
  const params: unknown[] = [options.limit];
  const where: string[] = [];
  if (options.customerId) where.push(`customer_id = $${params.push(options.customerId)}`);
  if (options.after)
    where.push(
      `(issued_at, number) > ($${params.push(options.after.issuedAt)}::timestamptz, $${params.push(options.after.number)})`,
    );
  const { rows } = await sql.query<InvoiceRow>(
    `select ${COLUMNS} from invoices ${where.length ? `where ${where.join(' and ')}` : ''} order by issued_at, number limit $1`,
    params,
  );
  return rows.map(fromRow);
}
