import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';
import { foldAnalyticsBatch } from './analytics-batch.ts';
import { monthlyRecurring } from './monthly-recurring.ts';

let position = 0;
const event = (type: string, data: Record<string, unknown>): RecordedEvent => ({
  id: `e${++position}`,
  type,
  schemaVersion: 1,
  streamId: 's',
  version: position,
  position,
  txId: String(position),
  occurredAt: new Date('2026-03-01T00:00:00Z'),
  partitionKey: 'k',
  data,
  metadata: { correlationId: 'c', causationId: null, actor: 'test' },
});

const created = (subscriptionId: string, amount: number, interval: 'month' | 'year', currency = 'EUR') =>
  event('SubscriptionCreated', {
    subscriptionId,
    customerId: `c-${subscriptionId}`,
    planId: `plan-${interval}`,
    price: { amount, currency },
    interval,
    currentPeriod: { start: '2026-01-10T10:00:00.000Z', end: '2026-02-10T10:00:00.000Z' },
    createdAt: '2026-01-10T10:00:00.000Z',
  });
const cancelled = (subscriptionId: string, requestedAt: string, effectiveAt: string) =>
  event('SubscriptionCancelled', {
    subscriptionId,
    customerId: `c-${subscriptionId}`,
    reason: 'customer_request',
    atPeriodEnd: requestedAt !== effectiveAt,
    requestedAt,
    effectiveAt,
  });

describe('analytics batch fold', () => {
  it('rounds a yearly price / 12 to the nearest minor unit, halves up', () => {
    expect(monthlyRecurring(29000, 'year')).toBe(2417);
    expect(monthlyRecurring(9000, 'year')).toBe(750);
    expect(monthlyRecurring(18, 'year')).toBe(2); // 1.5 → 2
    expect(monthlyRecurring(2900, 'month')).toBe(2900);
  });

  it('folds a whole batch into one row set per table', () => {
    const batch = foldAnalyticsBatch([
      event('CustomerRegistered', { customerId: 'c1', planId: 'p', registeredAt: '2026-01-10T10:00:00.000Z' }),
      event('CustomerRegistered', { customerId: 'c2', planId: 'p', registeredAt: '2026-01-10T23:59:59.999Z' }),
      created('a', 29000, 'year'),
      created('b', 3200, 'month', 'USD'),
      // at period end: still active; then brought forward to now: ended
      cancelled('a', '2026-01-20T00:00:00.000Z', '2027-01-10T10:00:00.000Z'),
      cancelled('a', '2026-01-25T00:00:00.000Z', '2026-01-25T00:00:00.000Z'),
      // a subscription of an earlier batch: a change, not a new row
      cancelled('old', '2026-01-21T00:00:00.000Z', '2026-02-01T00:00:00.000Z'),
      event('SubscriptionEnded', {
        subscriptionId: 'old',
        customerId: 'c',
        reason: 'x',
        endedAt: '2026-02-01T00:00:00.000Z',
      }),
      event('PaymentProcessed', {
        paymentId: 'p1',
        customerId: 'c1',
        amount: 29000,
        currency: 'EUR',
        purpose: 'registration',
        processedAt: '2026-01-10T10:00:00.000Z',
      }),
      event('PaymentProcessed', {
        paymentId: 'p2',
        customerId: 'c2',
        amount: 3200,
        currency: 'USD',
        purpose: 'registration',
        processedAt: '2026-01-10T10:00:00.000Z',
      }),
      event('PaymentRefunded', {
        paymentId: 'p1',
        customerId: 'c1',
        amount: 1000,
        currency: 'EUR',
        reason: 'x',
        refundedAt: '2026-01-10T12:00:00.000Z',
      }),
      event('PaymentFailed', {
        paymentId: 'p3',
        customerId: 'c3',
        amount: 900,
        currency: 'EUR',
        purpose: 'registration',
        failedAt: '2026-01-10T12:00:00.000Z',
      }),
    ]);
    expect(batch.signups).toEqual([{ day: '2026-01-10', signups: 2 }]);
    expect(batch.created).toEqual([
      expect.objectContaining({
        subscription_id: 'a',
        mrr: 2417,
        currency: 'EUR',
        cancel_requested_at: '2026-01-20T00:00:00.000Z',
        ended_at: '2026-01-25T00:00:00.000Z',
      }),
      expect.objectContaining({
        subscription_id: 'b',
        mrr: 3200,
        currency: 'USD',
        cancel_requested_at: null,
        ended_at: null,
      }),
    ]);
    expect(batch.changed).toEqual([
      { subscription_id: 'old', cancel_requested_at: '2026-01-21T00:00:00.000Z', ended_at: '2026-02-01T00:00:00.000Z' },
    ]);
    expect(batch.revenue).toEqual([
      { day: '2026-01-10', currency: 'EUR', amount: 28000 },
      { day: '2026-01-10', currency: 'USD', amount: 3200 },
    ]);
  });

  it('keeps a subscription cancelled at period end active until it ends', () => {
    const batch = foldAnalyticsBatch([
      created('a', 900, 'month'),
      cancelled('a', '2026-01-20T00:00:00.000Z', '2026-02-10T10:00:00.000Z'),
    ]);
    expect(batch.created[0]).toMatchObject({ cancel_requested_at: '2026-01-20T00:00:00.000Z', ended_at: null });
  });
});
