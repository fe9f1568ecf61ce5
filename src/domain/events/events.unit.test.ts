import { describe, it, expect } from 'vitest';
import type { z } from 'zod';
import { EventCatalog } from '../../kernel/catalog/catalog.ts';
import type { EventDefinition } from '../../kernel/catalog/define-event.ts';
import { EventValidationError } from '../../kernel/store/errors.ts';
import {
  CustomerRegistered,
  PaymentFailed,
  PaymentProcessed,
  SubscriptionCancelled,
  SubscriptionCreated,
  SubscriptionRenewed,
  seedEvents,
} from './index.ts';

const customerId = '01890a5d-ac96-774b-bcce-b302099a8057';
const subscriptionId = '01890a5d-ac96-774b-bcce-b302099a8058';
const paymentId = '01890a5d-ac96-774b-bcce-b302099a8059';

const valid = {
  CustomerRegistered: {
    customerId,
    pii: { alg: 'A256GCM', iv: 'aXYxMjM0NTY3ODkw', ciphertext: 'Y2lwaGVydGV4dA', tag: 'dGFnMTIzNDU2Nzg5MDEy' },
    planId: 'pro-monthly',
    registeredAt: '2025-01-15T10:00:00.000Z',
  },
  PaymentProcessed: {
    paymentId,
    customerId,
    subscriptionId: null,
    amount: 1999,
    currency: 'EUR',
    purpose: 'registration',
    periodIndex: 0,
    paymentMethod: { brand: 'visa', last4: '4242', tokenId: 'tok_1' },
    gatewayReference: 'sim_ch_123',
    processedAt: '2025-01-15T10:00:01.000Z',
    taxRateBps: 2000,
    taxAmount: 333,
  },
  PaymentFailed: {
    paymentId,
    customerId,
    subscriptionId,
    amount: 1999,
    currency: 'EUR',
    purpose: 'renewal',
    declineCode: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
    attempt: 2,
    failedAt: '2025-02-15T10:00:00.000Z',
  },
  SubscriptionCreated: {
    subscriptionId,
    customerId,
    planId: 'pro-monthly',
    price: { amount: 1999, currency: 'EUR' },
    interval: 'month',
    currentPeriod: { start: '2025-01-15T10:00:00.000Z', end: '2025-02-15T10:00:00.000Z' },
    createdAt: '2025-01-15T10:00:02.000Z',
  },
  SubscriptionRenewed: {
    subscriptionId,
    customerId,
    planId: 'pro-monthly',
    periodIndex: 1,
    period: { start: '2025-02-15T10:00:00.000Z', end: '2025-03-15T10:00:00.000Z' },
    paymentId,
    amount: 1999,
    currency: 'EUR',
    renewedAt: '2025-02-15T10:00:01.000Z',
  },
  SubscriptionCancelled: {
    subscriptionId,
    customerId,
    reason: 'customer_request',
    atPeriodEnd: true,
    requestedAt: '2025-02-20T09:00:00.000Z',
    effectiveAt: '2025-03-15T10:00:00.000Z',
  },
} as const;

/** One wrong variant per event, each breaking a rule the platform depends on. */
const wrong: Record<string, [string, Record<string, unknown>]> = {
  CustomerRegistered: ['pii.alg', { ...valid.CustomerRegistered, pii: { alg: 'none', email: 'ada@example.com' } }],
  PaymentProcessed: [
    'paymentMethod',
    { ...valid.PaymentProcessed, paymentMethod: { brand: 'visa', last4: '4242', number: '4242424242424242' } },
  ],
  PaymentFailed: ['attempt', { ...valid.PaymentFailed, attempt: 0 }],
  SubscriptionCreated: [
    'currentPeriod.end',
    {
      ...valid.SubscriptionCreated,
      currentPeriod: { start: '2025-02-15T10:00:00.000Z', end: '2025-01-15T10:00:00.000Z' },
    },
  ],
  SubscriptionRenewed: ['currency', { ...valid.SubscriptionRenewed, currency: 'eur' }],
  SubscriptionCancelled: ['reason', { ...valid.SubscriptionCancelled, reason: 'x'.repeat(501) }],
};

const definitions: EventDefinition[] = [
  CustomerRegistered,
  PaymentProcessed,
  PaymentFailed,
  SubscriptionCreated,
  SubscriptionRenewed,
  SubscriptionCancelled,
];
const catalog = new EventCatalog(seedEvents);

const errorOf = (fn: () => unknown): EventValidationError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof EventValidationError) return error;
    throw error;
  }
  throw new Error('expected an EventValidationError');
};

describe('seed events', () => {
  it.each(definitions.map((d) => [d.type, d] as const))(
    '%s accepts a valid example and refuses a wrong one',
    (type, definition) => {
      const example = valid[type as keyof typeof valid];
      expect((definition.schema as z.ZodType).safeParse(example).success).toBe(true);
      const [field, bad] = wrong[type]!;
      const result = (definition.schema as z.ZodType).safeParse(bad);
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.path.join('.')).toBe(field);
    },
  );

  it.each(definitions.map((d) => [d.type, d] as const))('%s is keyed by the customer id', (type, definition) => {
    expect(definition.partitionKey(valid[type as keyof typeof valid])).toBe(customerId);
  });

  it('refuses unknown fields', () => {
    expect(() =>
      catalog.validate('CustomerRegistered', { ...valid.CustomerRegistered, cardNumber: '4242424242424242' }),
    ).toThrow(EventValidationError);
  });

  it('refuses money as a float, naming the field', () => {
    const error = errorOf(() => catalog.validate('PaymentProcessed', { ...valid.PaymentProcessed, amount: 12.5 }));
    expect(error.field).toBe('amount');
    expect(error.eventType).toBe('PaymentProcessed');
    expect(error.message).toContain('amount');
  });

  it('names nested fields', () => {
    const error = errorOf(() =>
      catalog.validate('SubscriptionCreated', {
        ...valid.SubscriptionCreated,
        price: { amount: 1999, currency: 'euro' },
      }),
    );
    expect(error.field).toBe('price.currency');
    expect(error.message).toContain('price.currency');
  });

  it('accepts a registration payment without a subscription id and a renewal payment with one', () => {
    const { subscriptionId: _omitted, periodIndex: _index, ...registration } = valid.PaymentProcessed;
    expect(() => catalog.validate('PaymentProcessed', registration)).not.toThrow();
    expect(() =>
      catalog.validate('PaymentProcessed', {
        ...valid.PaymentProcessed,
        subscriptionId,
        purpose: 'renewal',
        periodIndex: 3,
      }),
    ).not.toThrow();
  });

  it('refuses times with an offset or without a time', () => {
    expect(() =>
      catalog.validate('CustomerRegistered', {
        ...valid.CustomerRegistered,
        registeredAt: '2025-01-15T10:00:00+01:00',
      }),
    ).toThrow(/registeredAt/);
    expect(() =>
      catalog.validate('CustomerRegistered', { ...valid.CustomerRegistered, registeredAt: '2025-01-15' }),
    ).toThrow(/registeredAt/);
  });

  it('refuses a cancellation effective before it was requested', () => {
    const error = errorOf(() =>
      catalog.validate('SubscriptionCancelled', {
        ...valid.SubscriptionCancelled,
        effectiveAt: '2025-02-19T09:00:00.000Z',
      }),
    );
    expect(error.field).toBe('effectiveAt');
  });

  it('upcasts a v1 CustomerRegistered into v3, its clear personal data kept as legacy clear text', () => {
    const v1 = {
      customerId,
      email: 'ada@example.com',
      fullName: 'Ada Lovelace',
      plan: 'pro-monthly',
      createdAt: '2024-06-01T08:00:00.000Z',
    };
    expect(catalog.decode('CustomerRegistered', 1, v1)).toEqual({
      schemaVersion: 3,
      data: {
        customerId,
        pii: { alg: 'legacy-clear', email: 'ada@example.com', name: 'Ada Lovelace' },
        planId: 'pro-monthly',
        registeredAt: '2024-06-01T08:00:00.000Z',
      },
    });
  });

  it('upcasts a v2 CustomerRegistered and a v1 CustomerCreated (clear email and name) to legacy clear text', () => {
    const v2 = {
      customerId,
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      planId: 'pro-monthly',
      registeredAt: '2024-06-01T08:00:00.000Z',
    };
    expect(catalog.decode('CustomerRegistered', 2, v2).data).toMatchObject({
      pii: { alg: 'legacy-clear', email: 'ada@example.com', name: 'Ada Lovelace' },
    });
    const { registeredAt: createdAt, ...created } = v2;
    expect(catalog.decode('CustomerCreated', 1, { ...created, createdAt })).toEqual({
      schemaVersion: 2,
      data: {
        customerId,
        pii: { alg: 'legacy-clear', email: 'ada@example.com', name: 'Ada Lovelace' },
        planId: 'pro-monthly',
        createdAt,
      },
    });
  });

  it('upcasts a v1 PaymentProcessed (no tax recorded) to v2 charged at 0 bps', () => {
    const { taxRateBps: _rate, taxAmount: _tax, ...v1 } = valid.PaymentProcessed;
    expect(catalog.decode('PaymentProcessed', 1, v1)).toEqual({
      schemaVersion: 2,
      data: { ...v1, taxRateBps: 0, taxAmount: 0 },
    });
  });

  it('refuses a PaymentProcessed whose tax exceeds its amount', () => {
    expect(
      errorOf(() => catalog.validate('PaymentProcessed', { ...valid.PaymentProcessed, taxAmount: 2000 })).field,
    ).toBe('taxAmount');
  });

  it('decodes current-version data unchanged', () => {
    expect(catalog.decode('SubscriptionRenewed', 1, valid.SubscriptionRenewed)).toEqual({
      schemaVersion: 1,
      data: valid.SubscriptionRenewed,
    });
  });

  it('refuses an unknown schema version', () => {
    const error = errorOf(() => catalog.decode('CustomerRegistered', 99, valid.CustomerRegistered));
    expect(error.field).toBe('schemaVersion');
    expect(error.message).toContain('99');
  });

  it('refuses an unknown event type', () => {
    expect(() => catalog.validate('CustomerTeleported', {})).toThrow(EventValidationError);
  });

  it("lists the topics: the seed's, and one of its own for each event the write side adds", () => {
    expect(catalog.topics()).toEqual([
      'customer.created',
      'customer.deleted',
      'customer.registered',
      'payment.failed',
      'payment.processed',
      'payment.refunded',
      'registration.compensated',
      'registration.compensating',
      'registration.compensation_failed',
      'registration.completed',
      'registration.customer_created',
      'registration.payment_charged',
      'registration.payment_declined',
      'registration.started',
      'registration.subscription_created',
      'subscription.cancelled',
      'subscription.created',
      'subscription.ended',
      'subscription.past_due',
      'subscription.renewed',
      'workflow.retried',
    ]);
  });

  it("keeps the seed's wiring: each seed topic carries exactly its seed event", () => {
    const seed = {
      'customer.registered': 'CustomerRegistered',
      'payment.processed': 'PaymentProcessed',
      'subscription.created': 'SubscriptionCreated',
      'subscription.renewed': 'SubscriptionRenewed',
      'subscription.cancelled': 'SubscriptionCancelled',
      'payment.failed': 'PaymentFailed',
    };
    for (const [topic, type] of Object.entries(seed)) expect(catalog.typesOf([topic])).toEqual([type]);
    expect(new Set(seedEvents.map((d) => d.topic)).size).toBe(seedEvents.length);
  });
});

describe('personal data at append', () => {
  const catalog = new EventCatalog(seedEvents);
  const customerId = '01890a5d-ac96-774b-bcce-b302099a8057';

  it('refuses a new customer event carrying email and name in clear, while old ones stay readable', () => {
    const clear = {
      customerId,
      pii: { alg: 'legacy-clear', email: 'ada@example.com', name: 'Ada' },
      planId: 'pro-monthly',
      createdAt: '2024-06-01T08:00:00.000Z',
    };
    expect(() => catalog.validateForAppend('CustomerCreated', clear)).toThrow(/pii/);
    expect(() => catalog.validate('CustomerCreated', clear)).not.toThrow();
    const sealed = {
      ...clear,
      pii: { alg: 'A256GCM', iv: 'aXYxMjM0NTY3ODkw', ciphertext: 'Y2lwaGVydGV4dA', tag: 'dGFnMTIzNDU2Nzg5MDEy' },
    };
    expect(() => catalog.validateForAppend('CustomerCreated', sealed)).not.toThrow();
  });
});
