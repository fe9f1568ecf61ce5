import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';
import { featuresBefore } from './churn-examples.ts';

const event = (type: string, data: unknown, version: number): RecordedEvent => ({
  id: `e${version}`,
  type,
  schemaVersion: 1,
  streamId: 'subscription-s',
  version,
  position: version,
  txId: '1',
  occurredAt: new Date('2026-01-01T00:00:00Z'),
  partitionKey: 'c',
  data,
  metadata: { correlationId: 'x', causationId: null, actor: 'test' },
});

const created = event(
  'SubscriptionCreated',
  {
    planId: 'pro-monthly',
    price: { amount: 2900, currency: 'EUR' },
    interval: 'month',
    createdAt: '2026-01-01T00:00:00.000Z',
  },
  1,
);

describe('churn features from a subscription history', () => {
  it('counts renewals and failed payments before the event, and days since signup at its time', () => {
    const history = [
      created,
      event('SubscriptionPastDue', {}, 2),
      event('SubscriptionRenewed', {}, 3),
      event('SubscriptionRenewed', {}, 4),
      event('SubscriptionPastDue', {}, 5),
    ];
    expect(featuresBefore(history, new Date('2026-03-15T12:00:00Z'))).toEqual({
      planId: 'pro-monthly',
      priceAmount: 2900,
      currency: 'EUR',
      interval: 'month',
      tenurePeriods: 3,
      renewals: 2,
      failedPayments: 2,
      daysSinceSignup: 73,
    });
  });

  it('knows nothing without the SubscriptionCreated', () => {
    expect(featuresBefore([event('SubscriptionRenewed', {}, 2)], new Date('2026-03-01T00:00:00Z'))).toBeNull();
  });
});
