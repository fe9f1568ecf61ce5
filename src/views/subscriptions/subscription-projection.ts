import type { PaymentFailedData } from '../../domain/events/payment-failed.ts';
import type { PaymentProcessedData } from '../../domain/events/payment-processed.ts';
import type { PaymentRefundedData } from '../../domain/events/payment-refunded.ts';
import type { SubscriptionCancelledData } from '../../domain/events/subscription-cancelled.ts';
import type { SubscriptionCreatedData } from '../../domain/events/subscription-created.ts';
import type { SubscriptionEndedData } from '../../domain/events/subscription-ended.ts';
import type { SubscriptionPastDueData } from '../../domain/events/subscription-past-due.ts';
import type { SubscriptionRenewedData } from '../../domain/events/subscription-renewed.ts';
import type { Sql } from '../../kernel/db/database.ts';
import { defineProjection, type ProjectionDefinition } from '../../kernel/projections/projection.ts';
import { upsertRows, upsertWrite, writeTogether, type Column } from '../upsert-rows.ts';
import {
  cancellationColumns,
  lastPaymentColumns,
  lookUpPatchedRowsByKey,
  patchOf,
  patchWrites,
  refundStatus,
  type SubscriptionPatch,
} from './subscription-patch.ts';

export type SubscriptionStatus = 'active' | 'past_due' | 'cancelled' | 'ended';
export type PaymentStatus = 'processed' | 'failed' | 'refunded' | 'partially_refunded';

/** The last payment of a subscription (the registration charge until the first renewal). */
interface LastPayment {
  last_payment_id: string | null;
  last_payment_amount: number | null;
  last_payment_currency: string | null;
  last_payment_at: string | null;
  last_payment_status: PaymentStatus | null;
  last_payment_refunded: number;
}

/** A row of `subscription_view.subscriptions`, times as ISO strings. */
export interface SubscriptionRow extends LastPayment {
  subscription_id: string;
  customer_id: string;
  plan_id: string;
  status: SubscriptionStatus;
  price_amount: number;
  currency: string;
  interval: 'month' | 'year';
  period_index: number;
  period_start: string;
  period_end: string;
  cancel_at: string | null;
  cancellation_reason: string | null;
  cancellation_at_period_end: boolean | null;
  cancellation_requested_at: string | null;
  cancellation_effective_at: string | null;
  renewals: number;
  /** SubscriptionPastDue events so far (each dunning attempt counts), as the churn model's training counts them. */
  failed_payments: number;
  created_at: string;
  ended_at: string | null;
}

/**
 * A customer's registration charge waiting for its subscription: the charge precedes
 * SubscriptionCreated and does not carry the subscription's id, so when the two fall into
 * different batches the charge waits here until SubscriptionCreated takes it as its last payment.
 */
interface PendingChargeRow {
  customer_id: string;
  payment_id: string;
  amount: number;
  currency: string;
  at: string;
}

const subscriptionColumns: readonly Column[] = [
  ['subscription_id', 'text'],
  ['customer_id', 'text'],
  ['plan_id', 'text'],
  ['status', 'text'],
  ['price_amount', 'bigint'],
  ['currency', 'text'],
  ['interval', 'text'],
  ['period_index', 'integer'],
  ['period_start', 'timestamptz'],
  ['period_end', 'timestamptz'],
  ['cancel_at', 'timestamptz'],
  ...cancellationColumns,
  ['renewals', 'integer'],
  ['failed_payments', 'integer'],
  ...lastPaymentColumns,
  ['created_at', 'timestamptz'],
  ['ended_at', 'timestamptz'],
];

const pendingChargeColumns: readonly Column[] = [
  ['customer_id', 'text'],
  ['payment_id', 'text'],
  ['amount', 'bigint'],
  ['currency', 'text'],
  ['at', 'timestamptz'],
];

const TYPES = [
  'SubscriptionCreated',
  'SubscriptionRenewed',
  'SubscriptionPastDue',
  'SubscriptionCancelled',
  'SubscriptionEnded',
  'PaymentProcessed',
  'PaymentFailed',
  'PaymentRefunded',
] as const;

export type SubscriptionEvent =
  | { type: 'SubscriptionCreated'; data: SubscriptionCreatedData }
  | { type: 'SubscriptionRenewed'; data: SubscriptionRenewedData }
  | { type: 'SubscriptionPastDue'; data: SubscriptionPastDueData }
  | { type: 'SubscriptionCancelled'; data: SubscriptionCancelledData }
  | { type: 'SubscriptionEnded'; data: SubscriptionEndedData }
  | { type: 'PaymentProcessed'; data: PaymentProcessedData }
  | { type: 'PaymentFailed'; data: PaymentFailedData }
  | { type: 'PaymentRefunded'; data: PaymentRefundedData };

/** The subscription after one of its own events (as the write side's decider evolves it). */
function evolve(
  row: SubscriptionRow | undefined,
  event: SubscriptionEvent,
  charge: PendingChargeRow | undefined,
): SubscriptionRow | undefined {
  if (event.type === 'SubscriptionCreated') {
    if (row) return row;
    const { subscriptionId, customerId, planId, price, interval, currentPeriod, createdAt } = event.data;
    return {
      subscription_id: subscriptionId,
      customer_id: customerId,
      plan_id: planId,
      status: 'active',
      price_amount: price.amount,
      currency: price.currency,
      interval,
      period_index: 0,
      period_start: currentPeriod.start,
      period_end: currentPeriod.end,
      cancel_at: null,
      cancellation_reason: null,
      cancellation_at_period_end: null,
      cancellation_requested_at: null,
      cancellation_effective_at: null,
      renewals: 0,
      failed_payments: 0,
      last_payment_id: charge?.payment_id ?? null,
      last_payment_amount: charge?.amount ?? null,
      last_payment_currency: charge?.currency ?? null,
      last_payment_at: charge?.at ?? null,
      last_payment_status: charge ? 'processed' : null,
      last_payment_refunded: 0,
      created_at: createdAt,
      ended_at: null,
    };
  }
  if (!row) return undefined;
  switch (event.type) {
    case 'SubscriptionRenewed': {
      const { periodIndex, period } = event.data;
      if (periodIndex <= row.period_index) return row;
      return {
        ...row,
        status: 'active',
        period_index: periodIndex,
        period_start: period.start,
        period_end: period.end,
        renewals: row.renewals + 1,
      };
    }
    case 'SubscriptionPastDue':
      return { ...row, status: 'past_due', failed_payments: row.failed_payments + 1 };
    case 'SubscriptionCancelled': {
      const { reason, atPeriodEnd, requestedAt, effectiveAt } = event.data;
      const cancellation = {
        cancellation_reason: reason,
        cancellation_at_period_end: atPeriodEnd,
        cancellation_requested_at: requestedAt,
        cancellation_effective_at: effectiveAt,
      };
      // Effective later (at period end): still active until SubscriptionEnded; effective now: cancelled.
      return Date.parse(requestedAt) < Date.parse(effectiveAt)
        ? { ...row, ...cancellation, cancel_at: effectiveAt }
        : { ...row, ...cancellation, status: 'cancelled', cancel_at: null, ended_at: effectiveAt };
    }
    case 'SubscriptionEnded':
      return { ...row, status: 'ended', cancel_at: null, ended_at: event.data.endedAt };
    case 'PaymentProcessed': {
      const { paymentId, amount, currency, processedAt } = event.data;
      return {
        ...row,
        last_payment_id: paymentId,
        last_payment_amount: amount,
        last_payment_currency: currency,
        last_payment_at: processedAt,
        last_payment_status: 'processed',
        last_payment_refunded: 0,
      };
    }
    case 'PaymentFailed': {
      const { paymentId, amount, currency, failedAt } = event.data;
      return {
        ...row,
        last_payment_id: paymentId,
        last_payment_amount: amount,
        last_payment_currency: currency,
        last_payment_at: failedAt,
        last_payment_status: 'failed',
        last_payment_refunded: 0,
      };
    }
    case 'PaymentRefunded': {
      // A refund of an older payment leaves the last one as it is.
      if (row.last_payment_id !== event.data.paymentId || row.last_payment_amount === null) return row;
      const refunded = row.last_payment_refunded + event.data.amount;
      return {
        ...row,
        last_payment_refunded: refunded,
        last_payment_status: refundStatus(row.last_payment_amount, refunded),
      };
    }
  }
}

// Times come back as text: the fold only copies them, and PostgreSQL reads its own output back.
const SELECT_SUBSCRIPTION = subscriptionColumns
  .map(([name, type]) => (type === 'timestamptz' ? `${name}::text` : name))
  .join(', ');

/** The stored rows of these subscriptions, and of these customers' (whose registration charge is refunded). */
async function loadSubscriptions(
  tx: Sql,
  schema: string,
  ids: string[],
  customerIds: string[],
): Promise<Map<string, SubscriptionRow>> {
  const loaded = new Map<string, SubscriptionRow>();
  const load = async (column: string, keys: string[]) => {
    if (keys.length === 0) return;
    const { rows } = await tx.query<SubscriptionRow>(
      `select ${SELECT_SUBSCRIPTION} from ${schema}.subscriptions where ${column} = any($1::text[])`,
      [keys],
    );
    for (const row of rows) loaded.set(row.subscription_id, row);
  };
  await load('subscription_id', ids);
  await load('customer_id', customerIds);
  return loaded;
}

async function loadPendingCharges(
  tx: Sql,
  schema: string,
  customerIds: string[],
): Promise<Map<string, PendingChargeRow>> {
  if (customerIds.length === 0) return new Map();
  const { rows } = await tx.query<PendingChargeRow>(
    `select customer_id, payment_id, amount, currency, at::text from ${schema}.pending_charges where customer_id = any($1::text[])`,
    [customerIds],
  );
  return new Map(rows.map((row) => [row.customer_id, row]));
}

const isRegistrationPayment = (event: SubscriptionEvent): boolean =>
  (event.type === 'PaymentProcessed' || event.type === 'PaymentFailed' || event.type === 'PaymentRefunded') &&
  !event.data.subscriptionId;

/**
 * The subscription view: one row per subscription, folded per batch in memory and written with
 * one statement. Its status follows the write side's decider: cancelled at period end stays
 * active (with `cancel_at`) until SubscriptionEnded.
 */
export function subscriptionProjection(): ProjectionDefinition {
  return defineProjection({
    name: 'subscriptions',
    schema: 'subscription_view',
    // 2: registration charges wait in pending_charges (was registration_payments).
    version: 2,
    types: TYPES,
    tables: (schema) => /* sql */ `
      create table ${schema}.subscriptions (
        subscription_id text primary key,
        customer_id text not null,
        plan_id text not null,
        status text not null check (status in ('active', 'past_due', 'cancelled', 'ended')),
        price_amount bigint not null,
        currency text not null,
        interval text not null,
        period_index integer not null,
        period_start timestamptz not null,
        period_end timestamptz not null,
        cancel_at timestamptz,
        cancellation_reason text,
        cancellation_at_period_end boolean,
        cancellation_requested_at timestamptz,
        cancellation_effective_at timestamptz,
        renewals integer not null,
        failed_payments integer not null,
        last_payment_id text,
        last_payment_amount bigint,
        last_payment_currency text,
        last_payment_at timestamptz,
        last_payment_status text,
        last_payment_refunded bigint not null,
        created_at timestamptz not null,
        ended_at timestamptz
      ) with (fillfactor = 80); -- room on the page: a renewal's update leaves the indexes alone (HOT)

      create table ${schema}.pending_charges (
        customer_id text primary key,
        payment_id text not null,
        amount bigint not null,
        currency text not null,
        at timestamptz not null
      );
    `,
    // The list's order (created_at, subscription_id) and its filters.
    indexes: (schema) => /* sql */ `
      create index subscriptions_page on ${schema}.subscriptions (created_at, subscription_id);
      create index subscriptions_customer_page on ${schema}.subscriptions (customer_id, created_at, subscription_id);
      create index subscriptions_status_page on ${schema}.subscriptions (status, created_at, subscription_id);
      create index subscriptions_plan_page on ${schema}.subscriptions (plan_id, created_at, subscription_id);
    `,
    async apply(recorded, { tx, schema }) {
      const events = recorded as unknown as readonly SubscriptionEvent[];
      // Each subscription's events; the charges of those created without their charge earlier in
      // this batch; the customers whose registration charge is refunded (their subscriptions are read).
      const bySubscription = new Map<string, SubscriptionEvent[]>();
      const charged = new Set<string>();
      const uncharged = new Set<string>();
      const refundedCustomers = new Set<string>();
      for (const event of events) {
        const { customerId } = event.data;
        if (isRegistrationPayment(event)) {
          if (event.type === 'PaymentProcessed') charged.add(customerId);
          if (event.type === 'PaymentRefunded') refundedCustomers.add(customerId);
          continue;
        }
        if (event.type === 'SubscriptionCreated' && !charged.has(customerId)) uncharged.add(customerId);
        const { subscriptionId } = event.data;
        if (!subscriptionId) continue;
        const ofSubscription = bySubscription.get(subscriptionId);
        if (ofSubscription) ofSubscription.push(event);
        else bySubscription.set(subscriptionId, [event]);
      }
      // Most subscriptions are patched without reading their row; the rest are read and folded.
      const patches = new Map<string, SubscriptionPatch>();
      const toLoad: string[] = [];
      for (const [subscriptionId, ofSubscription] of bySubscription) {
        const patch = patchOf(subscriptionId, ofSubscription);
        if (patch) patches.set(subscriptionId, patch);
        else toLoad.push(subscriptionId);
      }
      const stored = await loadPendingCharges(tx, schema, [...uncharged]);
      const subscriptions = await loadSubscriptions(tx, schema, toLoad, [...refundedCustomers]);
      // Read for a refunded registration charge: folded with the others read.
      for (const subscriptionId of subscriptions.keys()) patches.delete(subscriptionId);

      const charges = new Map<string, PendingChargeRow>();
      const taken: string[] = [];
      const changed = new Set<string>();
      const applyTo = (subscriptionId: string, event: SubscriptionEvent, charge?: PendingChargeRow) => {
        if (patches.has(subscriptionId)) return;
        const before = subscriptions.get(subscriptionId);
        const after = evolve(before, event, charge);
        if (!after || after === before) return;
        subscriptions.set(subscriptionId, after);
        changed.add(subscriptionId);
      };

      for (const event of events) {
        const { customerId } = event.data;
        if (!isRegistrationPayment(event)) {
          if (event.type !== 'SubscriptionCreated') {
            if (event.data.subscriptionId) applyTo(event.data.subscriptionId, event);
            continue;
          }
          const charge = charges.get(customerId) ?? stored.get(customerId);
          if (charges.delete(customerId) === false && stored.delete(customerId)) taken.push(customerId);
          applyTo(event.data.subscriptionId, event, charge);
        } else if (event.type === 'PaymentProcessed') {
          const { paymentId, amount, currency, processedAt } = event.data;
          charges.set(customerId, {
            customer_id: customerId,
            payment_id: paymentId,
            amount,
            currency,
            at: processedAt,
          });
        } else if (event.type === 'PaymentRefunded') {
          // Refunded before any subscription took it (a failed registration): nothing shows it.
          if (charges.get(customerId)?.payment_id === event.data.paymentId) continue;
          for (const row of subscriptions.values()) {
            if (row.customer_id === customerId && row.last_payment_id === event.data.paymentId)
              applyTo(row.subscription_id, event);
          }
        }
        // A declined registration charge creates no subscription: nothing to show it on.
      }

      if (taken.length > 0)
        await tx.query(`delete from ${schema}.pending_charges where customer_id = any($1::text[])`, [taken]);
      await upsertRows(tx, `${schema}.pending_charges`, pendingChargeColumns, 'customer_id', [
        ...charges.values(),
      ] as unknown as Record<string, unknown>[]);
      // The rows folded and the patches are different subscriptions: one statement writes them all.
      if (patches.size > 0) await lookUpPatchedRowsByKey(tx);
      const folded = [...changed].map((id) => subscriptions.get(id)! as unknown as Record<string, unknown>);
      await writeTogether(tx, [
        ...(folded.length > 0
          ? [upsertWrite(`${schema}.subscriptions`, subscriptionColumns, 'subscription_id', folded)]
          : []),
        ...patchWrites(`${schema}.subscriptions`, [...patches.values()]),
      ]);
    },
  });
}
