import { describe, expect, it } from 'vitest';
import {
  defaultBehaviour,
  DECLINING_CARDS,
  riskyPlanOf,
  scriptCustomer,
  type SimulatedPlan,
} from './customer-behaviour.ts';
import { Random } from './random.ts';

const plans: SimulatedPlan[] = [
  { id: 'pro-monthly', amount: 2900, currency: 'EUR', interval: 'month' },
  { id: 'starter-yearly', amount: 9000, currency: 'EUR', interval: 'year' },
  { id: 'starter-monthly', amount: 900, currency: 'EUR', interval: 'month' },
  { id: 'pro-monthly-usd', amount: 3200, currency: 'USD', interval: 'month' },
];
const DAYS = 365;
const scripts = (seed: number, customers: number) =>
  Array.from({ length: customers }, (_, index) => scriptCustomer(new Random(seed).fork(index), index, plans, DAYS));

describe('simulated customers', () => {
  it('are the same for the same seed, and differ for another', () => {
    expect(scripts(42, 200)).toEqual(scripts(42, 200));
    expect(scripts(43, 200)).not.toEqual(scripts(42, 200));
  });

  it('churn from the cheapest monthly plan about three times as often as from the other monthly plans', () => {
    expect(riskyPlanOf(plans).id).toBe('starter-monthly');
    const all = scripts(7, 30_000).filter((script) => !script.declines);
    // Leaving within 30 days of signing up, among those who had 30 days left in the simulation.
    const rate = (planId: string) => {
      const onPlan = all.filter((script) => script.plan.id === planId && script.signupDay < DAYS - 30);
      return (
        onPlan.filter((script) => script.cancel && script.cancel.day - script.signupDay <= 30).length / onPlan.length
      );
    };
    expect(rate('starter-monthly') / rate('pro-monthly')).toBeGreaterThan(2.5);
    expect(rate('starter-monthly') / rate('pro-monthly')).toBeLessThan(3.5);
    expect(rate('starter-yearly')).toBeLessThan(rate('pro-monthly'));
  });

  it('are declined at sign-up at the model rate, with a declining test card, and then do nothing else', () => {
    const all = scripts(11, 20_000);
    const declined = all.filter((script) => script.declines);
    expect(declined.length / all.length).toBeCloseTo(defaultBehaviour.declineRate, 2);
    for (const script of declined) {
      expect(DECLINING_CARDS).toContain(script.card);
      expect([script.cancel, script.cardFailure]).toEqual([null, null]);
    }
    const kept = all.filter((script) => !script.declines);
    expect(
      kept.every((script) => !script.cancel || (script.cancel.day > script.signupDay && script.cancel.day < DAYS)),
    ).toBe(true);
    expect(kept.filter((script) => script.cancel).some((script) => script.cancel!.atPeriodEnd)).toBe(true);
    expect(kept.filter((script) => script.cancel).some((script) => !script.cancel!.atPeriodEnd)).toBe(true);
  });
});
