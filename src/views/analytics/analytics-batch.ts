import type { PaymentProcessedData } from '../../domain/events/payment-processed.ts';
import type { PaymentRefundedData } from '../../domain/events/payment-refunded.ts';
import type { SubscriptionCancelledData } from '../../domain/events/subscription-cancelled.ts';
import type { SubscriptionCreatedData } from '../../domain/events/subscription-created.ts';
import type { SubscriptionEndedData } from '../../domain/events/subscription-ended.ts';
import type { CustomerRegisteredData } from '../../domain/events/customer-registered.ts';
import type { ProjectedEvent } from '../../kernel/store/envelope.ts';
import { dayOf, monthlyRecurring } from './monthly-recurring.ts';

export const ANALYTICS_EVENT_TYPES = [
  'CustomerRegistered',
  'SubscriptionCreated',
  'SubscriptionCancelled',
  'SubscriptionEnded',
  'PaymentProcessed',
  'PaymentRefunded',
] as const;

export interface NewSubscriptionRow {
  subscription_id: string;
  customer_id: string;
  plan_id: string;
  currency: string;
  mrr: number;
  started_at: string;
  cancel_requested_at: string | null;
  ended_at: string | null;
}

/** What a batch changes on a subscription created in an earlier batch. */
export interface SubscriptionChange {
  subscription_id: string;
  cancel_requested_at: string | null;
  ended_at: string | null;
}

/** A batch of events folded in memory into one set of rows per table (set-based apply). */
export interface AnalyticsBatch {
  created: NewSubscriptionRow[];
  changed: SubscriptionChange[];
  signups: { day: string; signups: number }[];
  revenue: { day: string; currency: string; amount: number }[];
}

const earliest = (a: string | null, b: string | null): string | null =>
  a === null ? b : b === null ? a : Date.parse(a) <= Date.parse(b) ? a : b;

/**
 * Folds events (in log order) into the rows to write. A subscription is active until it ends: its
 * SubscriptionEnded, or a cancellation taking effect at once (effectiveAt not after requestedAt,
 * which is also what a cancellation at period end becomes when the period is already over).
 * Revenue is what was captured, minus what was refunded, on the UTC day each happened.
 */
export function foldAnalyticsBatch(events: readonly ProjectedEvent[]): AnalyticsBatch {
  const created = new Map<string, NewSubscriptionRow>();
  const changed = new Map<string, SubscriptionChange>();
  const signups = new Map<string, number>();
  const revenue = new Map<string, { day: string; currency: string; amount: number }>();
  const target = (subscriptionId: string): { cancel_requested_at: string | null; ended_at: string | null } => {
    const row = created.get(subscriptionId) ?? changed.get(subscriptionId);
    if (row) return row;
    const change = { subscription_id: subscriptionId, cancel_requested_at: null, ended_at: null };
    changed.set(subscriptionId, change);
    return change;
  };
  const addRevenue = (at: string, currency: string, amount: number) => {
    const day = dayOf(at);
    const key = `${day}|${currency}`;
    const entry = revenue.get(key) ?? { day, currency, amount: 0 };
    entry.amount += amount;
    revenue.set(key, entry);
  };

  for (const event of events) {
    switch (event.type) {
      case 'CustomerRegistered': {
        const day = dayOf((event.data as CustomerRegisteredData).registeredAt);
        signups.set(day, (signups.get(day) ?? 0) + 1);
        break;
      }
      case 'SubscriptionCreated': {
        const data = event.data as SubscriptionCreatedData;
        created.set(data.subscriptionId, {
          subscription_id: data.subscriptionId,
          customer_id: data.customerId,
          plan_id: data.planId,
          currency: data.price.currency,
          mrr: monthlyRecurring(data.price.amount, data.interval),
          started_at: data.createdAt,
          cancel_requested_at: null,
          ended_at: null,
        });
        break;
      }
      case 'SubscriptionCancelled': {
        const data = event.data as SubscriptionCancelledData;
        const row = target(data.subscriptionId);
        // The first request is the cancellation; a later one (now, after one at period end) only brings the end forward.
        row.cancel_requested_at = earliest(row.cancel_requested_at, data.requestedAt);
        if (Date.parse(data.effectiveAt) <= Date.parse(data.requestedAt))
          row.ended_at = earliest(row.ended_at, data.effectiveAt);
        break;
      }
      case 'SubscriptionEnded': {
        const data = event.data as SubscriptionEndedData;
        const row = target(data.subscriptionId);
        row.ended_at = earliest(row.ended_at, data.endedAt);
        break;
      }
      case 'PaymentProcessed': {
        const data = event.data as PaymentProcessedData;
        addRevenue(data.processedAt, data.currency, data.amount);
        break;
      }
      case 'PaymentRefunded': {
        const data = event.data as PaymentRefundedData;
        addRevenue(data.refundedAt, data.currency, -data.amount);
        break;
      }
    }
  }
  return {
    created: [...created.values()],
    changed: [...changed.values()],
    signups: [...signups].map(([day, count]) => ({ day, signups: count })),
    revenue: [...revenue.values()],
  };
}
