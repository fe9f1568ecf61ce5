import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GatewayTimeoutError,
  GatewayUnavailableError,
  IdempotencyKeyReuseError,
  InvalidGatewayRequestError,
  RefundRefusedError,
  UnknownChargeError,
  UnknownPaymentMethodError,
  type ChargeRequest,
  type PaymentGateway,
} from './gateway.ts';
import type { SimulatedGateway } from './simulated-gateway.ts';

export interface GatewayFixture {
  /** The gateway under test. */
  gateway: PaymentGateway;
  /** The simulator that actually does the work behind it: fault injection and counters. */
  simulator: SimulatedGateway;
  close(): Promise<void>;
}

const key = (label = 'k') => `${label}:${randomUUID()}`;

const chargeOf = (overrides: Partial<ChargeRequest> = {}): ChargeRequest => ({
  idempotencyKey: key('registration'),
  amount: 2900,
  currency: 'EUR',
  paymentMethod: 'pm_card_visa',
  customerId: randomUUID(),
  description: 'Tributary Pro (monthly)',
  ...overrides,
});

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

/** The behaviour every PaymentGateway backed by the simulator must show, in process or over HTTP. */
export function paymentGatewayContract(
  name: string,
  open: () => Promise<GatewayFixture>,
  available: () => Promise<boolean> | boolean = () => true,
) {
  describe(`payment gateway contract: ${name}`, async () => {
    const skip = !(await available());
    let fixture: GatewayFixture;
    let gateway: PaymentGateway;
    let simulator: SimulatedGateway;
    beforeAll(async () => {
      if (skip) return;
      fixture = await open();
      ({ gateway, simulator } = fixture);
    });
    afterAll(async () => fixture?.close());

    describe('charges', () => {
      it.skipIf(skip)('charges the visa and mastercard test tokens: brand and last4 only', async () => {
        const visa = chargeOf();
        expect(await gateway.charge(visa)).toEqual({
          status: 'succeeded',
          chargeId: expect.stringMatching(/^ch_/),
          brand: 'visa',
          last4: '4242',
        });
        const mastercard = chargeOf({ paymentMethod: 'pm_card_mastercard', amount: 3200, currency: 'USD' });
        expect(await gateway.charge(mastercard)).toMatchObject({
          status: 'succeeded',
          brand: 'mastercard',
          last4: '4444',
        });
        expect(simulator.chargesFor(visa.idempotencyKey)).toBe(1);
        expect(simulator.chargesFor(mastercard.idempotencyKey)).toBe(1);

        const stored = await gateway.retrieve(mastercard.idempotencyKey);
        expect(stored).toEqual({
          status: 'succeeded',
          chargeId: expect.stringMatching(/^ch_/),
          brand: 'mastercard',
          last4: '4444',
          idempotencyKey: mastercard.idempotencyKey,
          amount: 3200,
          currency: 'USD',
          customerId: mastercard.customerId,
          description: 'Tributary Pro (monthly)',
          paymentMethod: 'pm_card_mastercard',
          amountRefunded: 0,
          createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        });
      });

      it.skipIf(skip).each([
        ['pm_card_chargeDeclined', 'generic_decline', /declined/],
        ['pm_card_chargeDeclinedInsufficientFunds', 'insufficient_funds', /insufficient funds/],
        ['pm_card_chargeDeclinedExpiredCard', 'expired_card', /expired/],
      ])(
        'declines %s with %s (a result, not an error), and records the attempt',
        async (paymentMethod, declineCode, message) => {
          const request = chargeOf({ paymentMethod });
          const before = simulator.counters();
          const result = await gateway.charge(request);
          expect(result).toEqual({
            status: 'declined',
            chargeId: expect.stringMatching(/^ch_/),
            declineCode,
            message: expect.stringMatching(message),
          });
          expect(simulator.chargesFor(request.idempotencyKey)).toBe(0);
          expect(simulator.counters()).toMatchObject({ charges: before.charges, declines: before.declines + 1 });
          expect(await gateway.retrieve(request.idempotencyKey)).toMatchObject({
            status: 'declined',
            declineCode,
            paymentMethod,
          });
          // The same key again: the same decline, not a second attempt.
          expect(await gateway.charge(request)).toEqual(result);
          expect(simulator.counters().declines).toBe(before.declines + 1);
        },
      );

      it.skipIf(skip)('an unknown pm_ token: UnknownPaymentMethodError naming it, and nothing recorded', async () => {
        const request = chargeOf({ paymentMethod: 'pm_card_doesNotExist' });
        const error = await rejection(gateway.charge(request));
        expect(error).toBeInstanceOf(UnknownPaymentMethodError);
        expect((error as UnknownPaymentMethodError).paymentMethod).toBe('pm_card_doesNotExist');
        expect(await gateway.retrieve(request.idempotencyKey)).toBeNull();
      });

      it.skipIf(skip)(
        'a card number instead of a token: refused, never repeated in the error, never stored',
        async () => {
          const request = chargeOf({ paymentMethod: '4242424242424242' });
          const error = await rejection(gateway.charge(request));
          expect(error).toBeInstanceOf(UnknownPaymentMethodError);
          expect((error as UnknownPaymentMethodError).paymentMethod).toBeNull();
          expect(error.message).not.toContain('4242424242424242');
          expect(await gateway.retrieve(request.idempotencyKey)).toBeNull();
          expect(JSON.stringify(await simulator.listCharges())).not.toContain('4242424242424242');
        },
      );

      it.skipIf(skip).each([
        ['amount', { amount: 29.99 }],
        ['amount', { amount: -100 }],
        ['currency', { currency: 'eur' }],
        ['currency', { currency: 'ZZZ' }],
        ['idempotencyKey', { idempotencyKey: 'x'.repeat(256) }],
        ['idempotencyKey', { idempotencyKey: 'clé €' }],
        ['customerId', { customerId: '' }],
      ])('an invalid %s: InvalidGatewayRequestError naming it, nothing charged', async (field, change) => {
        const request = chargeOf(change as Partial<ChargeRequest>);
        const error = await rejection(gateway.charge(request));
        expect(error).toBeInstanceOf(InvalidGatewayRequestError);
        expect((error as InvalidGatewayRequestError).field).toBe(field);
      });
    });

    describe('idempotency', () => {
      it.skipIf(skip)('the same key and parameters: the same result, charged once', async () => {
        const request = chargeOf();
        const first = await gateway.charge(request);
        expect(await gateway.charge(request)).toEqual(first);
        expect(await gateway.charge({ ...request })).toEqual(first);
        expect(simulator.chargesFor(request.idempotencyKey)).toBe(1);
        expect(simulator.requestsFor(request.idempotencyKey)).toBe(3);
      });

      it.skipIf(skip)(
        'the same key with other parameters: IdempotencyKeyReuseError naming them, nothing changed',
        async () => {
          const request = chargeOf();
          const first = await gateway.charge(request);
          const error = await rejection(
            gateway.charge({ ...request, amount: 9900, paymentMethod: 'pm_card_mastercard' }),
          );
          expect(error).toBeInstanceOf(IdempotencyKeyReuseError);
          expect((error as IdempotencyKeyReuseError).fields).toEqual(['amount', 'paymentMethod']);
          expect((error as IdempotencyKeyReuseError).idempotencyKey).toBe(request.idempotencyKey);
          expect(await gateway.retrieve(request.idempotencyKey)).toMatchObject({
            chargeId: (first as { chargeId: string }).chargeId,
            amount: 2900,
          });
          expect(simulator.chargesFor(request.idempotencyKey)).toBe(1);
        },
      );

      it.skipIf(skip)('30 concurrent requests with one key: one charge, identical answers', async () => {
        const request = chargeOf();
        const results = await Promise.all(Array.from({ length: 30 }, () => gateway.charge({ ...request })));
        expect(new Set(results.map((result) => JSON.stringify(result))).size).toBe(1);
        expect(simulator.chargesFor(request.idempotencyKey)).toBe(1);
        expect(await simulator.listCharges({ customerId: request.customerId })).toHaveLength(1);
      });

      it.skipIf(skip)(
        'retrieve: null for a key never used; keys with ":" and "/" work; an invalid key is refused',
        async () => {
          expect(await gateway.retrieve(key('never'))).toBeNull();
          const invalid = await rejection(gateway.retrieve(''));
          expect(invalid).toBeInstanceOf(InvalidGatewayRequestError);
          expect((invalid as InvalidGatewayRequestError).field).toBe('idempotencyKey');
          const request = chargeOf({ idempotencyKey: `saga/${randomUUID()}:charge` });
          const result = await gateway.charge(request);
          expect(await gateway.retrieve(request.idempotencyKey)).toMatchObject(result);
        },
      );
    });

    describe('faults', () => {
      it.skipIf(skip)(
        'unavailable: GatewayUnavailableError and nothing charged; a retry with the key charges once',
        async () => {
          const request = chargeOf();
          simulator.failNext(2, 'unavailable');
          expect(await rejection(gateway.charge(request))).toBeInstanceOf(GatewayUnavailableError);
          expect(await rejection(gateway.charge(request))).toBeInstanceOf(GatewayUnavailableError);
          expect(await gateway.retrieve(request.idempotencyKey)).toBeNull();
          expect(await gateway.charge(request)).toMatchObject({ status: 'succeeded' });
          expect(simulator.chargesFor(request.idempotencyKey)).toBe(1);
        },
      );

      it.skipIf(skip)('timeout before the charge: GatewayTimeoutError, and retrieve shows no charge', async () => {
        const request = chargeOf();
        simulator.failNext(1, 'timeout-before-charge');
        expect(await rejection(gateway.charge(request))).toBeInstanceOf(GatewayTimeoutError);
        expect(await gateway.retrieve(request.idempotencyKey)).toBeNull();
        expect(simulator.chargesFor(request.idempotencyKey)).toBe(0);
        await gateway.charge(request);
        expect(simulator.chargesFor(request.idempotencyKey)).toBe(1);
      });

      it.skipIf(skip)(
        'the ambiguous case, charged but the answer timed out: retrieve shows the charge, a retry returns it, one charge',
        async () => {
          const request = chargeOf();
          simulator.failNext(1, 'timeout-after-charge');
          expect(await rejection(gateway.charge(request))).toBeInstanceOf(GatewayTimeoutError);
          const found = await gateway.retrieve(request.idempotencyKey);
          expect(found).toMatchObject({
            status: 'succeeded',
            amount: 2900,
            currency: 'EUR',
            brand: 'visa',
            last4: '4242',
          });
          const retried = await gateway.charge(request);
          expect(retried).toEqual({ status: 'succeeded', chargeId: found!.chargeId, brand: 'visa', last4: '4242' });
          expect(simulator.chargesFor(request.idempotencyKey)).toBe(1);
        },
      );

      it.skipIf(skip)('retrieve during an outage: GatewayUnavailableError', async () => {
        simulator.failNext(1, 'unavailable', 'retrieve');
        expect(await rejection(gateway.retrieve(key()))).toBeInstanceOf(GatewayUnavailableError);
      });
    });

    describe('refunds', () => {
      const charged = async (amount = 2900) => {
        const request = chargeOf({ amount });
        const result = await gateway.charge(request);
        if (result.status !== 'succeeded') throw new Error('expected a charge');
        return { request, chargeId: result.chargeId };
      };

      it.skipIf(skip)('refunds the whole charge by default; the same key again returns the same refund', async () => {
        const { request, chargeId } = await charged();
        const refundKey = key('refund');
        const refund = await gateway.refund({ idempotencyKey: refundKey, chargeId });
        expect(refund).toEqual({
          refundId: expect.stringMatching(/^re_/),
          status: 'succeeded',
          chargeId,
          amount: 2900,
          currency: 'EUR',
          createdAt: expect.any(String),
        });
        expect(await gateway.refund({ idempotencyKey: refundKey, chargeId })).toEqual(refund);
        expect(await gateway.retrieve(request.idempotencyKey)).toMatchObject({ amountRefunded: 2900 });
        const again = await rejection(gateway.refund({ idempotencyKey: key('refund'), chargeId }));
        expect(again).toBeInstanceOf(RefundRefusedError);
        expect((again as RefundRefusedError).reason).toBe('charge_already_refunded');
      });

      it.skipIf(skip)('partial refunds add up to the charge, and no further', async () => {
        const { request, chargeId } = await charged(10_000);
        await gateway.refund({ idempotencyKey: key('refund'), chargeId, amount: 2_500 });
        const tooLarge = await rejection(gateway.refund({ idempotencyKey: key('refund'), chargeId, amount: 7_501 }));
        expect(tooLarge).toBeInstanceOf(RefundRefusedError);
        expect((tooLarge as RefundRefusedError).reason).toBe('amount_too_large');
        expect(await gateway.refund({ idempotencyKey: key('refund'), chargeId })).toMatchObject({ amount: 7_500 });
        expect(await gateway.retrieve(request.idempotencyKey)).toMatchObject({ amountRefunded: 10_000 });
      });

      it.skipIf(skip)(
        'concurrent refunds of one charge with different keys never refund more than the charge',
        async () => {
          const { request, chargeId } = await charged(3_000);
          const outcomes = await Promise.allSettled(
            Array.from({ length: 6 }, () => gateway.refund({ idempotencyKey: key('refund'), chargeId, amount: 1_000 })),
          );
          expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(3);
          expect(await gateway.retrieve(request.idempotencyKey)).toMatchObject({ amountRefunded: 3_000 });
        },
      );

      it.skipIf(skip)('refuses a declined charge, an unknown charge and a reused refund key', async () => {
        const declined = await gateway.charge(chargeOf({ paymentMethod: 'pm_card_chargeDeclined' }));
        const notSucceeded = await rejection(
          gateway.refund({ idempotencyKey: key('refund'), chargeId: declined.chargeId }),
        );
        expect((notSucceeded as RefundRefusedError).reason).toBe('charge_not_succeeded');
        const unknown = await rejection(gateway.refund({ idempotencyKey: key('refund'), chargeId: 'ch_unknown' }));
        expect(unknown).toBeInstanceOf(UnknownChargeError);
        expect((unknown as UnknownChargeError).chargeId).toBe('ch_unknown');

        const { chargeId } = await charged(5_000);
        const refundKey = key('refund');
        await gateway.refund({ idempotencyKey: refundKey, chargeId, amount: 1_000 });
        const reuse = await rejection(gateway.refund({ idempotencyKey: refundKey, chargeId, amount: 2_000 }));
        expect(reuse).toBeInstanceOf(IdempotencyKeyReuseError);
        expect((reuse as IdempotencyKeyReuseError).fields).toEqual(['amount']);
      });

      it.skipIf(skip)('a refund whose answer timed out took effect once; the retry returns it', async () => {
        const { request, chargeId } = await charged();
        const refundKey = key('refund');
        simulator.failNext(1, 'timeout-after-charge', 'refund');
        expect(await rejection(gateway.refund({ idempotencyKey: refundKey, chargeId }))).toBeInstanceOf(
          GatewayTimeoutError,
        );
        expect(await gateway.retrieve(request.idempotencyKey)).toMatchObject({ amountRefunded: 2900 });
        const before = simulator.counters().refunds;
        expect(await gateway.refund({ idempotencyKey: refundKey, chargeId })).toMatchObject({ chargeId, amount: 2900 });
        expect(simulator.counters().refunds).toBe(before);
      });

      it.skipIf(skip)('a refund during an outage does nothing', async () => {
        const { request, chargeId } = await charged();
        simulator.failNext(1, 'unavailable', 'refund');
        expect(await rejection(gateway.refund({ idempotencyKey: key('refund'), chargeId }))).toBeInstanceOf(
          GatewayUnavailableError,
        );
        expect(await gateway.retrieve(request.idempotencyKey)).toMatchObject({ amountRefunded: 0 });
      });
    });
  });
}
