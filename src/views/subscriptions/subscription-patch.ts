import type { Sql } from '../../kernel/db/database.ts';
import { unnestRows, type Column, type Write } from '../upsert-rows.ts';
import type { PaymentStatus, SubscriptionEvent, SubscriptionStatus } from './subscription-projection.ts';

/**
 * What a batch's events do to a stored subscription, written without reading its row first: the
 * bulk of the log (a renewal's payment and SubscriptionRenewed) then costs one narrow UPDATE per batch.
 * Each field is the value the batch sets, or null for "as stored" (a flag says so where null is a
 * value). The batch's renewal applies only when newer than the stored period, as `evolve` has it.
 */
export interface SubscriptionPatch {
  subscription_id: string;
  renewal_period_index: number | null;
  renewal_period_start: string | null;
  renewal_period_end: string | null;
  /** The status when the renewal applies (set by the renewal and every status after it). */
  status_if_renewed: SubscriptionStatus | null;
  /** The status otherwise; null: as stored. */
  status: SubscriptionStatus | null;
  failed_payments_added: number;
  paid: boolean;
  last_payment_id: string | null;
  last_payment_amount: number | null;
  last_payment_currency: string | null;
  last_payment_at: string | null;
  last_payment_status: PaymentStatus | null;
  last_payment_refunded: number | null;
  cancelled: boolean;
  cancellation_reason: string | null;
  cancellation_at_period_end: boolean | null;
  cancellation_requested_at: string | null;
  cancellation_effective_at: string | null;
  cancel_at_set: boolean;
  cancel_at: string | null;
  /** Never set back to null by an event: null is "as stored". */
  ended_at: string | null;
}

/** Columns of the view's rows that the patch sets together (a payment; a cancellation). */
export const lastPaymentColumns: readonly Column[] = [
  ['last_payment_id', 'text'],
  ['last_payment_amount', 'bigint'],
  ['last_payment_currency', 'text'],
  ['last_payment_at', 'timestamptz'],
  ['last_payment_status', 'text'],
  ['last_payment_refunded', 'bigint'],
];
export const cancellationColumns: readonly Column[] = [
  ['cancellation_reason', 'text'],
  ['cancellation_at_period_end', 'boolean'],
  ['cancellation_requested_at', 'timestamptz'],
  ['cancellation_effective_at', 'timestamptz'],
];

const patchColumns: readonly Column[] = [
  ['subscription_id', 'text'],
  ['renewal_period_index', 'integer'],
  ['renewal_period_start', 'timestamptz'],
  ['renewal_period_end', 'timestamptz'],
  ['status_if_renewed', 'text'],
  ['status', 'text'],
  ['failed_payments_added', 'integer'],
  ['paid', 'boolean'],
  ...lastPaymentColumns,
  ['cancelled', 'boolean'],
  ...cancellationColumns,
  ['cancel_at_set', 'boolean'],
  ['cancel_at', 'timestamptz'],
  ['ended_at', 'timestamptz'],
];

export const refundStatus = (amount: number, refunded: number): PaymentStatus =>
  refunded >= amount ? 'refunded' : 'partially_refunded';

/**
 * The patch of one subscription's events of a batch (in log order), or undefined when they need
 * its stored row: its creation, a second renewal, or a refund of a payment made before the batch.
 */
export function patchOf(subscriptionId: string, events: readonly SubscriptionEvent[]): SubscriptionPatch | undefined {
  const patch: SubscriptionPatch = {
    subscription_id: subscriptionId,
    renewal_period_index: null,
    renewal_period_start: null,
    renewal_period_end: null,
    status_if_renewed: null,
    status: null,
    failed_payments_added: 0,
    paid: false,
    last_payment_id: null,
    last_payment_amount: null,
    last_payment_currency: null,
    last_payment_at: null,
    last_payment_status: null,
    last_payment_refunded: null,
    cancelled: false,
    cancellation_reason: null,
    cancellation_at_period_end: null,
    cancellation_requested_at: null,
    cancellation_effective_at: null,
    cancel_at_set: false,
    cancel_at: null,
    ended_at: null,
  };
  const setStatus = (status: SubscriptionStatus) => {
    patch.status = status;
    if (patch.renewal_period_index !== null) patch.status_if_renewed = status;
  };
  for (const event of events) {
    switch (event.type) {
      case 'SubscriptionCreated':
        return undefined;
      case 'SubscriptionRenewed':
        if (patch.renewal_period_index !== null) return undefined;
        patch.renewal_period_index = event.data.periodIndex;
        patch.renewal_period_start = event.data.period.start;
        patch.renewal_period_end = event.data.period.end;
        patch.status_if_renewed = 'active';
        break;
      case 'SubscriptionPastDue':
        setStatus('past_due');
        patch.failed_payments_added += 1;
        break;
      case 'SubscriptionCancelled': {
        const { reason, atPeriodEnd, requestedAt, effectiveAt } = event.data;
        Object.assign(patch, {
          cancelled: true,
          cancellation_reason: reason,
          cancellation_at_period_end: atPeriodEnd,
          cancellation_requested_at: requestedAt,
          cancellation_effective_at: effectiveAt,
          cancel_at_set: true,
        });
        if (Date.parse(requestedAt) < Date.parse(effectiveAt)) patch.cancel_at = effectiveAt;
        else {
          setStatus('cancelled');
          patch.cancel_at = null;
          patch.ended_at = effectiveAt;
        }
        break;
      }
      case 'SubscriptionEnded':
        setStatus('ended');
        patch.cancel_at_set = true;
        patch.cancel_at = null;
        patch.ended_at = event.data.endedAt;
        break;
      case 'PaymentProcessed':
      case 'PaymentFailed': {
        const processed = event.type === 'PaymentProcessed';
        Object.assign(patch, {
          paid: true,
          last_payment_id: event.data.paymentId,
          last_payment_amount: event.data.amount,
          last_payment_currency: event.data.currency,
          last_payment_at: processed ? event.data.processedAt : event.data.failedAt,
          last_payment_status: processed ? 'processed' : 'failed',
          last_payment_refunded: 0,
        });
        break;
      }
      case 'PaymentRefunded': {
        if (!patch.paid) return undefined;
        if (patch.last_payment_id !== event.data.paymentId || patch.last_payment_amount === null) break;
        patch.last_payment_refunded = patch.last_payment_refunded! + event.data.amount;
        patch.last_payment_status = refundStatus(patch.last_payment_amount, patch.last_payment_refunded);
        break;
      }
    }
  }
  return patch;
}

/**
 * A patch that records a payment and at most the renewal it paid for (the bulk of the log): it
 * travels in fewer columns and its UPDATE evaluates fewer expressions than the others'.
 */
const isPaymentOnly = (patch: SubscriptionPatch): boolean =>
  patch.paid &&
  patch.last_payment_refunded === 0 &&
  patch.status === null &&
  patch.failed_payments_added === 0 &&
  !patch.cancelled &&
  !patch.cancel_at_set &&
  patch.ended_at === null;

const paymentPatchColumns: readonly Column[] = [
  ['subscription_id', 'text'],
  ['renewal_period_index', 'integer'],
  ['renewal_period_start', 'timestamptz'],
  ['renewal_period_end', 'timestamptz'],
  ...lastPaymentColumns.filter(([column]) => column !== 'last_payment_refunded'),
];

// The batch's renewal applies only when newer than the stored period, as `evolve` has it.
const RENEWED = 'r.renewal_period_index > s.period_index';
const ifRenewed = (column: string) => `case when ${RENEWED} then r.renewal_${column} else s.${column} end`;
const renewalAssignments = [
  `period_index = ${ifRenewed('period_index')}`,
  `period_start = ${ifRenewed('period_start')}`,
  `period_end = ${ifRenewed('period_end')}`,
  `renewals = s.renewals + case when ${RENEWED} then 1 else 0 end`,
];

/**
 * Each patch finds its row by key. Pricing those lookups as reads from disk, the planner would
 * rather hash the whole table (several times slower: the view is in memory) for a few thousand:
 * run before `patchWrites`, in the same transaction.
 */
export const lookUpPatchedRowsByKey = (tx: Sql): Promise<void> =>
  tx.exec('set local enable_hashjoin = off; set local enable_mergejoin = off');

/** The patches as UPDATEs, one per kind; a subscription without a row is left without one, as `evolve` leaves it. */
export function patchWrites(table: string, patches: readonly SubscriptionPatch[]): Write[] {
  const payments = patches.filter(isPaymentOnly);
  const others = payments.length === 0 ? patches : patches.filter((patch) => !isPaymentOnly(patch));
  const ifFlag = (flag: string, columns: readonly Column[]) =>
    columns.map(([column]) => `${column} = case when r.${flag} then r.${column} else s.${column} end`);
  const writes: Write[] = [];
  if (payments.length > 0)
    writes.push(
      updateFrom(table, paymentPatchColumns, payments, [
        `status = case when ${RENEWED} then 'active' else s.status end`,
        ...renewalAssignments,
        ...lastPaymentColumns.map(([column]) =>
          column === 'last_payment_refunded' ? `${column} = 0` : `${column} = r.${column}`,
        ),
      ]),
    );
  if (others.length > 0)
    writes.push(
      updateFrom(table, patchColumns, others, [
        `status = case when ${RENEWED} then r.status_if_renewed else coalesce(r.status, s.status) end`,
        ...renewalAssignments,
        'failed_payments = s.failed_payments + r.failed_payments_added',
        ...ifFlag('paid', lastPaymentColumns),
        ...ifFlag('cancelled', cancellationColumns),
        ...ifFlag('cancel_at_set', [['cancel_at', 'timestamptz']]),
        'ended_at = coalesce(r.ended_at, s.ended_at)',
      ]),
    );
  return writes;
}

const updateFrom =
  (
    table: string,
    columns: readonly Column[],
    patches: readonly SubscriptionPatch[],
    assignments: readonly string[],
  ): Write =>
  (first) => {
    const { relation, params } = unnestRows(columns, patches as unknown as Record<string, unknown>[], first);
    return {
      text: `update ${table} s set ${assignments.join(', ')} from ${relation} where s.subscription_id = r.subscription_id`,
      params,
    };
  };
