import { type DeferredWrites, writeTo } from '../../../kernel/store/deferred-writes.ts';
import type { PaymentPurpose } from '../../../domain/events/common.ts';
import type { Sql } from '../../../kernel/db/database.ts';

export type IntentStatus = 'pending' | 'succeeded' | 'declined' | 'void' | 'refund_due' | 'refunded';

/** A gateway charge about to be made, written before the call with its idempotency key. */
export interface PaymentIntent {
  idempotencyKey: string;
  flowType: 'registration' | 'renewal';
  flowId: string;
  paymentId: string;
  customerId: string;
  subscriptionId: string | null;
  amount: number;
  currency: string;
  purpose: PaymentPurpose;
  periodIndex: number;
  attempt: number;
  /** The tax rate (basis points) the charge carries, whoever records its outcome. */
  taxRateBps: number;
  paymentMethod: string;
  description: string;
}

export interface StoredIntent extends PaymentIntent {
  status: IntentStatus;
  chargeId: string | null;
  refundReason: string | null;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
}

interface IntentRow {
  idempotency_key: string;
  flow_type: 'registration' | 'renewal';
  flow_id: string;
  payment_id: string;
  customer_id: string;
  subscription_id: string | null;
  amount: string | number;
  currency: string;
  purpose: PaymentPurpose;
  period_index: number;
  attempt: number;
  tax_rate_bps: number;
  payment_method: string;
  status: IntentStatus;
  charge_id: string | null;
  refund_reason: string | null;
  attempts: number;
  last_error: string | null;
  created_at: Date;
}

export const intentOf = (row: IntentRow): StoredIntent => ({
  idempotencyKey: row.idempotency_key,
  flowType: row.flow_type,
  flowId: row.flow_id,
  paymentId: row.payment_id,
  customerId: row.customer_id,
  subscriptionId: row.subscription_id,
  amount: Number(row.amount),
  currency: row.currency,
  purpose: row.purpose,
  periodIndex: row.period_index,
  attempt: row.attempt,
  taxRateBps: row.tax_rate_bps,
  paymentMethod: row.payment_method,
  description: `${row.flow_type} ${row.flow_id}`,
  status: row.status,
  chargeId: row.charge_id,
  refundReason: row.refund_reason,
  attempts: row.attempts,
  lastError: row.last_error,
  createdAt: row.created_at,
});

/**
 * Records the intent (a retried call with the same key finds the first one). Its times are the
 * database's, like leases: the reconciler's window is operational time, not the business clock
 * (which a test may hold still or move by months).
 */
export async function openIntent(target: Sql | DeferredWrites, intent: PaymentIntent): Promise<void> {
  await writeTo(
    target,
    `insert into payment_intents (idempotency_key, flow_type, flow_id, payment_id, customer_id, subscription_id, amount, currency,
       purpose, period_index, attempt, payment_method, tax_rate_bps, status, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'pending', clock_timestamp(), clock_timestamp())
     on conflict (idempotency_key) do nothing`,
    [
      intent.idempotencyKey,
      intent.flowType,
      intent.flowId,
      intent.paymentId,
      intent.customerId,
      intent.subscriptionId,
      intent.amount,
      intent.currency,
      intent.purpose,
      intent.periodIndex,
      intent.attempt,
      intent.paymentMethod,
      intent.taxRateBps,
    ],
  );
}

/**
 * Records what became of the intent, in the transaction that records the outcome's events. A
 * refund due is looked at again at once (`next_attempt_at`), by the flow or by the reconciler. A
 * refunded intent is final: a late attempt's answer does not reopen it.
 */
export async function settleIntent(
  target: Sql | DeferredWrites,
  key: string,
  outcome: { status: IntentStatus; chargeId?: string | null; refundReason?: string },
): Promise<void> {
  await writeTo(
    target,
    `update payment_intents set status = $2, charge_id = coalesce($3, charge_id), refund_reason = coalesce($4, refund_reason),
       next_attempt_at = case when $2 = 'refund_due' then clock_timestamp() else null end, last_error = null, updated_at = clock_timestamp()
     where idempotency_key = $1 and status <> 'refunded'`,
    [key, outcome.status, outcome.chargeId ?? null, outcome.refundReason ?? null],
  );
}

export async function findIntent(sql: Sql, key: string): Promise<StoredIntent | null> {
  const { rows } = await sql.query<IntentRow>('select * from payment_intents where idempotency_key = $1', [key]);
  return rows[0] ? intentOf(rows[0]) : null;
}
