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
import { iso, isoOrNull, upsertRows, type Column } from '../customers/upsert-rows.ts';

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
 * The registration charge of a customer: it precedes the subscription (whose id it does not
 * carry), so it waits here until SubscriptionCreated links it; a refund without a subscription id
 * finds the subscription through it.
 */
interface RegistrationPaymentRow {
  customer_id: string;
  payment_id: string;
  amount: number;
  currency: string;
  at: string;
  status: PaymentStatus;
  refunded: number;
  subscription_id: string | null;
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
  ['cancellation_reason', 'text'],
  ['cancellation_at_period_end', 'boolean'],
  ['cancellation_requested_at', 'timestamptz'],
  ['cancellation_effective_at', 'timestamptz'],
  ['renewals', 'integer'],
  ['failed_payments', 'integer'],
  ['last_payment_id', 'text'],
  ['last_payment_amount', 'bigint'],
  ['last_payment_currency', 'text'],
  ['last_payment_at', 'timestamptz'],
  ['last_payment_status', 'text'],
  ['last_payment_refunded', 'bigint'],
  ['created_at', 'timestamptz'],
  ['ended_at', 'timestamptz'],
];

const registrationPaymentColumns: readonly Column[] = [
  ['customer_id', 'text'],
  ['payment_id', 'text'],
  ['amount', 'bigint'],
  ['currency', 'text'],
  ['at', 'timestamptz'],
  ['status', 'text'],
  ['refunded', 'bigint'],
  ['subscription_id', 'text'],
];

const SUBSCRIPTION_TIMES = ['period_start', 'period_end', 'cancel_at', 'cancellation_requested_at', 'cancellation_effective_at', 'last_payment_at', 'created_at', 'ended_at'] as const;

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

type SubscriptionEvent =
  | { type: 'SubscriptionCreated'; data: SubscriptionCreatedData }
  | { type: 'SubscriptionRenewed'; data: SubscriptionRenewedData }
  | { type: 'SubscriptionPastDue'; data: SubscriptionPastDueData }
  | { type: 'SubscriptionCancelled'; data: SubscriptionCancelledData }
  | { type: 'SubscriptionEnded'; data: SubscriptionEndedData }
  | { type: 'PaymentProcessed'; data: PaymentProcessedData }
  | { type: 'PaymentFailed'; data: PaymentFailedData }
  | { type: 'PaymentRefunded'; data: PaymentRefundedData };

const refundStatus = (amount: number, refunded: number): PaymentStatus => (refunded >= amount ? 'refunded' : 'partially_refunded');

/** The subscription after one of its own events (as the write side's decider evolves it). */
function evolve(row: SubscriptionRow | undefined, event: SubscriptionEvent, registrationPayment: RegistrationPaymentRow | undefined): SubscriptionRow | undefined {
  if (event.type === 'SubscriptionCreated') {
    if (row) return row;
    const { subscriptionId, customerId, planId, price, interval, currentPeriod, createdAt } = event.data;
    const paid = registrationPayment && registrationPayment.subscription_id === null ? registrationPayment : undefined;
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
      last_payment_id: paid?.payment_id ?? null,
      last_payment_amount: paid?.amount ?? null,
      last_payment_currency: paid?.currency ?? null,
      last_payment_at: paid?.at ?? null,
      last_payment_status: paid?.status ?? null,
      last_payment_refunded: paid?.refunded ?? 0,
      created_at: createdAt,
      ended_at: null,
    };
  }
  if (!row) return undefined;
  switch (event.type) {
    case 'SubscriptionRenewed': {
      const { periodIndex, period } = event.data;
      if (periodIndex <= row.period_index) return row;
      return { ...row, status: 'active', period_index: periodIndex, period_start: period.start, period_end: period.end, renewals: row.renewals + 1 };
    }
    case 'SubscriptionPastDue':
      return { ...row, status: 'past_due', failed_payments: row.failed_payments + 1 };
    case 'SubscriptionCancelled': {
      const { reason, atPeriodEnd, requestedAt, effectiveAt } = event.data;
      const cancellation = { cancellation_reason: reason, cancellation_at_period_end: atPeriodEnd, cancellation_requested_at: requestedAt, cancellation_effective_at: effectiveAt };
      // Effective later (at period end): still active until SubscriptionEnded; effective now: cancelled.
      return Date.parse(requestedAt) < Date.parse(effectiveAt)
        ? { ...row, ...cancellation, cancel_at: effectiveAt }
        : { ...row, ...cancellation, status: 'cancelled', cancel_at: null, ended_at: effectiveAt };
    }
    case 'SubscriptionEnded':
      return { ...row, status: 'ended', cancel_at: null, ended_at: event.data.endedAt };
    case 'PaymentProcessed': {
      const { paymentId, amount, currency, processedAt } = event.data;
      return { ...row, last_payment_id: paymentId, last_payment_amount: amount, last_payment_currency: currency, last_payment_at: processedAt, last_payment_status: 'processed', last_payment_refunded: 0 };
    }
    case 'PaymentFailed': {
      const { paymentId, amount, currency, failedAt } = event.data;
      return { ...row, last_payment_id: paymentId, last_payment_amount: amount, last_payment_currency: currency, last_payment_at: failedAt, last_payment_status: 'failed', last_payment_refunded: 0 };
    }
    case 'PaymentRefunded': {
      // A refund of an older payment leaves the last one as it is.
      if (row.last_payment_id !== event.data.paymentId || row.last_payment_amount === null) return row;
      const refunded = row.last_payment_refunded + event.data.amount;
      return { ...row, last_payment_refunded: refunded, last_payment_status: refundStatus(row.last_payment_amount, refunded) };
    }
  }
}

type StoredSubscription = Omit<SubscriptionRow, (typeof SUBSCRIPTION_TIMES)[number]> & Record<(typeof SUBSCRIPTION_TIMES)[number], Date | null>;

async function loadSubscriptions(tx: Sql, schema: string, ids: string[]): Promise<Map<string, SubscriptionRow>> {
  if (ids.length === 0) return new Map();
  const { rows } = await tx.query<StoredSubscription>(`select * from ${schema}.subscriptions where subscription_id = any($1::text[])`, [ids]);
  return new Map(
    rows.map((stored) => {
      const row = { ...stored } as unknown as Record<string, unknown>;
      for (const column of SUBSCRIPTION_TIMES) row[column] = isoOrNull(stored[column]);
      return [stored.subscription_id, row as unknown as SubscriptionRow];
    }),
  );
}

async function loadRegistrationPayments(tx: Sql, schema: string, customerIds: string[]): Promise<Map<string, RegistrationPaymentRow>> {
  if (customerIds.length === 0) return new Map();
  const { rows } = await tx.query<Omit<RegistrationPaymentRow, 'at'> & { at: Date }>(`select * from ${schema}.registration_payments where customer_id = any($1::text[])`, [customerIds]);
  return new Map(rows.map((row) => [row.customer_id, { ...row, at: iso(row.at) }]));
}

const isRegistrationPayment = (event: SubscriptionEvent): boolean =>
  (event.type === 'PaymentProcessed' || event.type === 'PaymentFailed' || event.type === 'PaymentRefunded') && !event.data.subscriptionId;

/**
 * The subscription view: one row per subscription, folded per batch in memory and written with
 * one statement. Its status follows the write side's decider: cancelled at period end stays
 * active (with `cancel_at`) until SubscriptionEnded.
 */
export function subscriptionProjection(): ProjectionDefinition {
  return defineProjection({
    name: 'subscriptions',
    schema: 'subscription_view',
    version: 1,
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
      -- The list's order (created_at, subscription_id) and its filters.
      create index subscriptions_page on ${schema}.subscriptions (created_at, subscription_id);
      create index subscriptions_customer_page on ${schema}.subscriptions (customer_id, created_at, subscription_id);
      create index subscriptions_status_page on ${schema}.subscriptions (status, created_at, subscription_id);
      create index subscriptions_plan_page on ${schema}.subscriptions (plan_id, created_at, subscription_id);

      create table ${schema}.registration_payments (
        customer_id text primary key,
        payment_id text not null,
        amount bigint not null,
        currency text not null,
        at timestamptz not null,
        status text not null,
        refunded bigint not null,
        subscription_id text
      );
    `,
    async apply(recorded, { tx, schema }) {
      const events = recorded as unknown as readonly SubscriptionEvent[];
      const registrationCustomers = new Set<string>();
      const subscriptionIds = new Set<string>();
      for (const event of events) {
        if (event.type === 'SubscriptionCreated' || isRegistrationPayment(event)) registrationCustomers.add(event.data.customerId);
        if (event.data.subscriptionId) subscriptionIds.add(event.data.subscriptionId);
      }
      const registrations = await loadRegistrationPayments(tx, schema, [...registrationCustomers]);
      // A refund of a registration charge names no subscription: its customer's registration does.
      for (const event of events) {
        const linked = event.type === 'PaymentRefunded' && !event.data.subscriptionId ? registrations.get(event.data.customerId)?.subscription_id : undefined;
        if (linked) subscriptionIds.add(linked);
      }
      const subscriptions = await loadSubscriptions(tx, schema, [...subscriptionIds]);
      const changedSubscriptions = new Set<string>();
      const changedRegistrations = new Set<string>();

      const applyTo = (subscriptionId: string | null | undefined, event: SubscriptionEvent) => {
        if (!subscriptionId) return;
        const before = subscriptions.get(subscriptionId);
        const after = evolve(before, event, registrations.get(event.data.customerId));
        if (!after || after === before) return;
        subscriptions.set(subscriptionId, after);
        changedSubscriptions.add(subscriptionId);
      };

      for (const event of events) {
        if (!isRegistrationPayment(event)) {
          applyTo(event.data.subscriptionId, event);
          if (event.type === 'SubscriptionCreated') {
            const registration = registrations.get(event.data.customerId);
            if (registration && registration.subscription_id === null) {
              registrations.set(event.data.customerId, { ...registration, subscription_id: event.data.subscriptionId });
              changedRegistrations.add(event.data.customerId);
            }
          }
          continue;
        }
        const { customerId } = event.data;
        const registration = registrations.get(customerId);
        if (event.type === 'PaymentProcessed') {
          const { paymentId, amount, currency, processedAt } = event.data;
          registrations.set(customerId, { customer_id: customerId, payment_id: paymentId, amount, currency, at: processedAt, status: 'processed', refunded: 0, subscription_id: registration?.subscription_id ?? null });
          changedRegistrations.add(customerId);
        } else if (event.type === 'PaymentRefunded' && registration?.payment_id === event.data.paymentId) {
          const refunded = registration.refunded + event.data.amount;
          registrations.set(customerId, { ...registration, refunded, status: refundStatus(registration.amount, refunded) });
          changedRegistrations.add(customerId);
          applyTo(registration.subscription_id, event);
        }
        // A declined registration charge creates no subscription: nothing to show it on.
      }

      const rowsOf = <Row>(ids: Set<string>, from: Map<string, Row>) => [...ids].map((id) => from.get(id)! as unknown as Record<string, unknown>);
      await upsertRows(tx, `${schema}.registration_payments`, registrationPaymentColumns, 'customer_id', rowsOf(changedRegistrations, registrations));
      await upsertRows(tx, `${schema}.subscriptions`, subscriptionColumns, 'subscription_id', rowsOf(changedSubscriptions, subscriptions));
    },
  });
}
