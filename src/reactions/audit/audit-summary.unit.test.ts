import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';
import { auditSubject, auditSummary, formatMinorUnits } from './audit-summary.ts';

const customerId = '0190c7a8-0000-7000-8000-000000000001';
const event = (type: string, data: unknown): RecordedEvent => ({
  id: '0190c7a8-0000-7000-8000-0000000000ff',
  type,
  schemaVersion: 1,
  streamId: `stream-${type}`,
  version: 1,
  position: 1,
  txId: '1',
  occurredAt: new Date('2026-03-01T10:00:00Z'),
  partitionKey: customerId,
  data,
  metadata: { correlationId: 'c', causationId: null, actor: 'system' },
});

describe('audit summaries', () => {
  it('formats minor units in the currency exponent, without floats', () => {
    expect(formatMinorUnits(1200, 'EUR')).toBe('12.00 EUR');
    expect(formatMinorUnits(5, 'USD')).toBe('0.05 USD');
    expect(formatMinorUnits(1500, 'JPY')).toBe('1500 JPY');
    expect(formatMinorUnits(1234, 'KWD')).toBe('1.234 KWD');
  });

  it('says who registered on which plan, without email or name', () => {
    const summary = auditSummary(
      event('CustomerRegistered', {
        customerId,
        email: 'ann@example.com',
        name: 'Ann Example',
        planId: 'pro-monthly',
        registeredAt: '2026-03-01T10:00:00.000Z',
      }),
    );
    expect(summary).toBe(`customer ${customerId} registered on plan pro-monthly`);
    expect(summary).not.toMatch(/ann|example/i);
  });

  it('shows of a card its brand and last four digits only', () => {
    const summary = auditSummary(
      event('PaymentProcessed', {
        paymentId: 'p-1',
        customerId,
        amount: 1200,
        currency: 'EUR',
        purpose: 'registration',
        periodIndex: 0,
        paymentMethod: { brand: 'visa', last4: '4242', tokenId: 'tok_secret_123' },
        gatewayReference: 'ch_1',
        processedAt: '2026-03-01T10:00:00.000Z',
      }),
    );
    expect(summary).toBe('payment 12.00 EUR for registration (period 0), visa ••4242, payment p-1');
    expect(summary).not.toContain('tok_secret_123');
  });

  it('describes a new subscription by plan, price and first period', () => {
    const summary = auditSummary(
      event('SubscriptionCreated', {
        subscriptionId: 's-1',
        customerId,
        planId: 'pro-yearly',
        price: { amount: 29000, currency: 'USD' },
        interval: 'year',
        currentPeriod: { start: '2026-03-01T10:00:00.000Z', end: '2027-03-01T10:00:00.000Z' },
        createdAt: '2026-03-01T10:00:00.000Z',
      }),
    );
    expect(summary).toBe(
      'subscription s-1 created on plan pro-yearly at 290.00 USD/year, first period 2026-03-01 to 2027-03-01',
    );
  });

  it('says only the type of an event it has no wording for, and finds its subject', () => {
    expect(auditSummary(event('CustomerCreated', { customerId, email: 'ann@example.com' }))).toBe(
      'CustomerCreated on stream-CustomerCreated',
    );
    expect(auditSubject(event('CustomerCreated', { customerId: 'other' }))).toBe('other');
    expect(auditSubject(event('Something', {}))).toBe(customerId);
  });
});
