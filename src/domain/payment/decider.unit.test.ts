import { describe, expect, it } from 'vitest';
import { deciderSpec } from '../../../test/support/decider-spec.ts';
import { EventCatalog } from '../../kernel/catalog/catalog.ts';
import { InvalidCommandError, InvalidTransitionError, NotFoundError } from '../errors.ts';
import { seedEvents } from '../events/index.ts';
import type { RecordPaymentFailed, RecordPaymentSucceeded, RefundPayment } from './commands.ts';
import { paymentDecider } from './decider.ts';
import type { PaymentEvent } from './events.ts';

const catalog = new EventCatalog(seedEvents);
const { given } = deciderSpec(paymentDecider, { validate: (event) => catalog.validate(event.type, event.data) });

const paymentId = '01890a5d-ac96-774b-bcce-b302099a8059';
const customerId = '01890a5d-ac96-774b-bcce-b302099a8057';
const subscriptionId = '01890a5d-ac96-774b-bcce-b302099a8058';
const charge = {
  paymentId,
  customerId,
  subscriptionId: null,
  amount: 1999,
  currency: 'EUR',
  purpose: 'registration' as const,
};
const card = { brand: 'visa', last4: '4242', tokenId: 'pm_card_visa' };

const succeed = (overrides: Partial<RecordPaymentSucceeded['data']> = {}): RecordPaymentSucceeded => ({
  type: 'RecordPaymentSucceeded',
  data: {
    ...charge,
    periodIndex: 0,
    paymentMethod: card,
    gatewayReference: 'sim_ch_1',
    processedAt: '2025-01-15T10:00:01.000Z',
    taxRateBps: 0,
    ...overrides,
  },
});
const fail = (attempt: number, overrides: Partial<RecordPaymentFailed['data']> = {}): RecordPaymentFailed => ({
  type: 'RecordPaymentFailed',
  data: {
    ...charge,
    declineCode: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
    attempt,
    failedAt: `2025-01-1${attempt}T10:00:00.000Z`,
    ...overrides,
  },
});
const refund = (amount?: number): RefundPayment => ({
  type: 'RefundPayment',
  data: {
    paymentId,
    ...(amount === undefined ? {} : { amount }),
    reason: 'registration_compensation',
    gatewayReference: 'sim_re_1',
    refundedAt: '2025-01-15T10:00:09.000Z',
  },
});

const processed: PaymentEvent = {
  type: 'PaymentProcessed',
  data: {
    ...charge,
    periodIndex: 0,
    paymentMethod: card,
    gatewayReference: 'sim_ch_1',
    processedAt: '2025-01-15T10:00:01.000Z',
    taxRateBps: 0,
    taxAmount: 0,
  },
};
const failed = (attempt: number): PaymentEvent => ({
  type: 'PaymentFailed',
  data: {
    ...charge,
    declineCode: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
    attempt,
    failedAt: `2025-01-1${attempt}T10:00:00.000Z`,
  },
});
const refunded = (amount: number): PaymentEvent => ({
  type: 'PaymentRefunded',
  data: {
    paymentId,
    customerId,
    subscriptionId: null,
    amount,
    currency: 'EUR',
    reason: 'registration_compensation',
    gatewayReference: 'sim_re_1',
    refundedAt: '2025-01-15T10:00:09.000Z',
  },
});

describe('Payment', () => {
  describe('RecordPaymentSucceeded', () => {
    it('records the capture', () => {
      const state = given([]).when(succeed()).then([processed]);
      expect(state).toMatchObject({ status: 'processed', amount: 1999, currency: 'EUR', gatewayReference: 'sim_ch_1' });
    });

    it('records a renewal payment with its subscription and period', () => {
      const renewal = succeed({ subscriptionId, purpose: 'renewal', periodIndex: 3 });
      given([])
        .when(renewal)
        .then([
          {
            type: 'PaymentProcessed',
            data: { ...processed.data, subscriptionId, purpose: 'renewal', periodIndex: 3 },
          } as PaymentEvent,
        ]);
    });

    it('records the tax rate in force and the tax inside the amount', () => {
      given([])
        .when(succeed({ taxRateBps: 2000 }))
        .then([
          { type: 'PaymentProcessed', data: { ...processed.data, taxRateBps: 2000, taxAmount: 333 } } as PaymentEvent,
        ]);
    });

    it('refuses a tax rate that is not 0..10000 basis points', () => {
      given([])
        .when(succeed({ taxRateBps: 10_001 }))
        .thenThrows(InvalidCommandError, 'invalid_tax_rate');
      given([])
        .when(succeed({ taxRateBps: 12.5 }))
        .thenThrows(InvalidCommandError, 'invalid_tax_rate');
    });

    it('keeps only the token, brand and last4 of the card', () => {
      const state = given([])
        .when(succeed({ paymentMethod: { ...card, number: '4242424242424242', cvc: '123' } as typeof card }))
        .then([processed]);
      expect(JSON.stringify(state)).not.toContain('4242424242424242');
    });

    it('records a later attempt that succeeded after a decline', () => {
      given([failed(1)])
        .when(succeed())
        .then([processed]);
    });

    it('refuses a success that charges other money than the declined attempts', () => {
      given([failed(1)])
        .when(succeed({ amount: 2999 }))
        .thenThrows(InvalidCommandError, 'payment_mismatch');
    });

    it('is idempotent', () => {
      given([processed]).when(succeed()).then([]);
      given([processed, refunded(1999)])
        .when(succeed())
        .then([]);
    });

    it('refuses a second, different capture of one payment: that would be a double charge', () => {
      given([processed])
        .when(succeed({ gatewayReference: 'sim_ch_2' }))
        .thenThrows(InvalidTransitionError, 'payment_already_processed');
    });

    it.each([
      ['a float', { amount: 19.99 }, 'invalid_amount'],
      ['zero', { amount: 0 }, 'invalid_amount'],
      ['a lowercase currency', { currency: 'eur' }, 'invalid_currency'],
    ])('refuses money as %s', (_label, overrides, code) => {
      given([]).when(succeed(overrides)).thenThrows(InvalidCommandError, code);
    });
  });

  describe('RecordPaymentFailed', () => {
    it('records a decline', () => {
      const state = given([])
        .when(fail(1))
        .then([failed(1)]);
      expect(state).toMatchObject({ status: 'failed', attempt: 1, declineCode: 'insufficient_funds' });
    });

    it('records the next attempt', () => {
      given([failed(1)])
        .when(fail(2))
        .then([failed(2)]);
    });

    it('is idempotent: an attempt already recorded says nothing new', () => {
      given([failed(1), failed(2)])
        .when(fail(2))
        .then([]);
      given([failed(1), failed(2)])
        .when(fail(1))
        .then([]);
    });

    it('refuses a decline after the capture', () => {
      given([processed]).when(fail(1)).thenThrows(InvalidTransitionError, 'payment_already_processed');
    });

    it('refuses attempt 0', () => {
      given([]).when(fail(0)).thenThrows(InvalidCommandError, 'invalid_attempt');
    });
  });

  describe('RefundPayment', () => {
    it('refunds the whole charge by default', () => {
      const state = given([processed])
        .when(refund())
        .then([refunded(1999)]);
      expect(state).toMatchObject({ status: 'refunded', refund: { amount: 1999 } });
    });

    it('refunds part of the charge', () => {
      given([processed])
        .when(refund(500))
        .then([refunded(500)]);
    });

    it('refunds exactly the charge', () => {
      given([processed])
        .when(refund(1999))
        .then([refunded(1999)]);
    });

    it('refuses more than the charge', () => {
      given([processed]).when(refund(2000)).thenThrows(InvalidCommandError, 'refund_exceeds_charge');
    });

    it('is idempotent: a refunded payment is not refunded again', () => {
      given([processed, refunded(1999)])
        .when(refund())
        .then([]);
    });

    it('refuses a payment that was never captured', () => {
      given([failed(1)])
        .when(refund())
        .thenThrows(InvalidTransitionError, 'payment_not_processed');
    });

    it('refuses an unknown payment', () => {
      given([]).when(refund()).thenThrows(NotFoundError, 'payment_not_found');
    });
  });

  it('refuses a command for another payment', () => {
    given([processed])
      .when({ ...refund(), data: { ...refund().data, paymentId: '01890a5d-ac96-774b-bcce-b302099a8000' } })
      .thenThrows(InvalidCommandError, 'wrong_payment');
  });
});
