import { describe, expect, it } from 'vitest';
import { TestClock } from '../../../kernel/clock.ts';
import { paymentGatewayContract } from './gateway.contract.ts';
import { GatewayTimeoutError, GatewayUnavailableError, type ChargeRequest } from './gateway.ts';
import { SimulatedGateway, TEST_PAYMENT_METHODS } from './simulated-gateway.ts';

paymentGatewayContract('SimulatedGateway in memory', async () => {
  const simulator = new SimulatedGateway();
  return { gateway: simulator, simulator, close: async () => {} };
});

const request = (idempotencyKey: string, overrides: Partial<ChargeRequest> = {}): ChargeRequest => ({
  idempotencyKey,
  amount: 900,
  currency: 'EUR',
  paymentMethod: 'pm_card_visa',
  customerId: 'c1',
  description: 'Starter',
  ...overrides,
});

describe('SimulatedGateway', () => {
  it('stamps records with the platform clock', async () => {
    const clock = new TestClock(new Date('2026-03-01T12:00:00Z'), { frozen: true });
    const gateway = new SimulatedGateway({ clock });
    await gateway.charge(request('a'));
    clock.advanceBy(60_000);
    const { chargeId } = (await gateway.charge(request('b'))) as { chargeId: string };
    expect((await gateway.retrieve('a'))?.createdAt).toBe('2026-03-01T12:00:00.000Z');
    const refund = await gateway.refund({ idempotencyKey: 'r', chargeId });
    expect(refund.createdAt).toBe('2026-03-01T12:01:00.000Z');
  });

  it('queues faults per operation, in order, and counts what it actually did', async () => {
    const gateway = new SimulatedGateway();
    gateway.failNext(1, 'unavailable');
    gateway.failNext(1, 'timeout-after-charge');
    gateway.failNext(1, 'unavailable', 'retrieve');
    await expect(gateway.charge(request('a'))).rejects.toBeInstanceOf(GatewayUnavailableError);
    await expect(gateway.retrieve('a')).rejects.toBeInstanceOf(GatewayUnavailableError);
    await expect(gateway.charge(request('a'))).rejects.toBeInstanceOf(GatewayTimeoutError);
    await expect(gateway.charge(request('a'))).resolves.toMatchObject({ status: 'succeeded' });
    await gateway.charge(request('d', { paymentMethod: 'pm_card_chargeDeclinedExpiredCard' }));
    expect(gateway.counters()).toEqual({ chargeRequests: 4, charges: 1, declines: 1, refunds: 0 });
    expect(gateway.requestsFor('a')).toBe(3);
    expect(gateway.chargesFor('a')).toBe(1);
  });

  it('clearFaults forgets the faults not yet used; failNext refuses a bad count', async () => {
    const gateway = new SimulatedGateway();
    gateway.failNext(5, 'unavailable');
    gateway.clearFaults();
    await expect(gateway.charge(request('a'))).resolves.toMatchObject({ status: 'succeeded' });
    expect(() => gateway.failNext(-1, 'unavailable')).toThrow(RangeError);
    expect(() => gateway.setLatency(-1)).toThrow(RangeError);
  });

  it('answers after the injected latency', async () => {
    const gateway = new SimulatedGateway({ latencyMs: 30 });
    const started = performance.now();
    await gateway.charge(request('a'));
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    gateway.setLatency(0);
  });

  it('knows exactly the five Stripe test tokens, and keeps no card number', () => {
    expect([...TEST_PAYMENT_METHODS.keys()]).toEqual([
      'pm_card_visa',
      'pm_card_mastercard',
      'pm_card_chargeDeclined',
      'pm_card_chargeDeclinedInsufficientFunds',
      'pm_card_chargeDeclinedExpiredCard',
    ]);
    for (const card of TEST_PAYMENT_METHODS.values()) expect(card.last4).toMatch(/^\d{4}$/);
  });
});
