import { describe, expect, it } from 'vitest';
import defaultCatalog from './default-plans.json' with { type: 'json' };
import { PlanCatalog } from './plan-catalog.ts';
import { parsePlans, PlanCatalogError, UnknownPlanError, type Plan } from './plan.ts';

const pro = {
  id: 'pro-monthly',
  name: 'Pro',
  description: 'For teams.',
  amount: 2900,
  currency: 'EUR',
  interval: 'month',
};

const errorOf = (fn: () => unknown): PlanCatalogError => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PlanCatalogError);
    return error as PlanCatalogError;
  }
  throw new Error('expected a PlanCatalogError');
};

describe('parsePlans', () => {
  it('accepts { plans: [...] } and a bare array, defaulting trialDays to 0', () => {
    const expected: Plan = { ...pro, interval: 'month', trialDays: 0 };
    expect(parsePlans({ plans: [pro] }, 'test')).toEqual([expected]);
    expect(parsePlans([pro], 'test')).toEqual([expected]);
  });

  it.each([
    ['a float amount', { amount: 29.99 }, 'amount', /integer number of minor units/],
    ['an amount given as a string', { amount: '2900' }, 'amount', /expected number|integer/i],
    ['a zero amount', { amount: 0 }, 'amount', /positive/],
    ['a lowercase currency', { currency: 'eur' }, 'currency', /ISO 4217/],
    ['a made-up currency', { currency: 'ABC' }, 'currency', /not an ISO 4217/],
    ['a weekly interval', { interval: 'week' }, 'interval', /month|year/],
    ['a trial', { trialDays: 14 }, 'trialDays', /trials are not supported/],
    ['an empty name', { name: ' ' }, 'name', /empty/],
    ['a typo in a field name', { ammount: 2900 }, 'ammount', /unrecognized key/i],
  ])('names the plan and the field for %s', (_case, change, field, message) => {
    const error = errorOf(() =>
      parsePlans(
        {
          plans: [
            { ...pro, id: 'starter-monthly' },
            { ...pro, ...change },
          ],
        },
        'plans.json',
      ),
    );
    expect(error.source).toBe('plans.json');
    expect(error.plan).toBe('"pro-monthly"');
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
    expect(error.message).toContain(`plans.json: plan "pro-monthly": ${field}: `);
  });

  it('names a plan without a usable id by its index', () => {
    const error = errorOf(() => parsePlans({ plans: [pro, { ...pro, id: undefined }] }, 'plans.json'));
    expect(error.plan).toBe('plans[1]');
    expect(error.field).toBe('id');
  });

  it('reports a missing field, and how many more problems the plan has', () => {
    const { id: _id, ...withoutId } = pro;
    const error = errorOf(() =>
      parsePlans([{ ...withoutId, id: 'x', amount: undefined, currency: undefined }], 'plans.json'),
    );
    expect(error.field).toBe('amount');
    expect(error.message).toMatch(/\(and 1 more problem\)$/);
  });

  it('refuses duplicate ids, an empty catalog and a document of the wrong shape', () => {
    expect(errorOf(() => parsePlans([pro, pro], 'f')).message).toBe(
      'invalid plan catalog f: plan "pro-monthly": id: duplicate plan id',
    );
    expect(errorOf(() => parsePlans({ plans: [] }, 'f')).message).toMatch(/no plans/);
    expect(errorOf(() => parsePlans({ plan: [pro] }, 'f')).message).toMatch(/expected \{ "plans"/);
    expect(errorOf(() => parsePlans('pro', 'f')).plan).toBeNull();
  });
});

describe('the default catalog', () => {
  const catalog = new PlanCatalog(parsePlans(defaultCatalog, 'default-plans.json'));

  it('has a monthly and a yearly plan, and plans in a second currency, all in integer minor units', () => {
    const plans = catalog.list();
    expect(plans.map((plan) => plan.id)).toEqual(
      expect.arrayContaining(['starter-monthly', 'pro-monthly', 'pro-yearly', 'pro-monthly-usd']),
    );
    expect(catalog.require('pro-yearly').interval).toBe('year');
    expect(catalog.require('pro-monthly').interval).toBe('month');
    expect(new Set(plans.map((plan) => plan.currency)).size).toBeGreaterThanOrEqual(2);
    for (const plan of plans) expect(Number.isSafeInteger(plan.amount) && plan.amount > 0).toBe(true);
  });

  it('prices a yearly plan below twelve months of its monthly plan', () => {
    expect(catalog.require('pro-yearly').amount).toBeLessThan(12 * catalog.require('pro-monthly').amount);
  });
});

describe('PlanCatalog', () => {
  const catalog = new PlanCatalog(
    parsePlans([pro, { ...pro, id: 'pro-yearly', interval: 'year', amount: 29000 }], 'test'),
  );

  it('lists the plans in catalog order', () => {
    expect(catalog.list().map((plan) => plan.id)).toEqual(['pro-monthly', 'pro-yearly']);
  });

  it('get: the plan, or undefined for an unknown id', () => {
    expect(catalog.get('pro-yearly')?.amount).toBe(29000);
    expect(catalog.get('enterprise')).toBeUndefined();
  });

  it('require: the plan, or a typed UnknownPlanError carrying the id', () => {
    expect(catalog.require('pro-monthly').name).toBe('Pro');
    try {
      catalog.require('enterprise');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(UnknownPlanError);
      expect((error as UnknownPlanError).planId).toBe('enterprise');
      expect((error as Error).message).toBe('unknown plan: "enterprise"');
    }
  });

  it('cannot be changed by its readers', () => {
    const plan = catalog.require('pro-monthly');
    expect(() => ((plan as { amount: number }).amount = 1)).toThrow(TypeError);
    expect(() => (catalog.list() as Plan[]).push(plan)).toThrow(TypeError);
    expect(catalog.require('pro-monthly').amount).toBe(2900);
  });

  it('refuses duplicate ids', () => {
    const plan = catalog.require('pro-monthly');
    expect(() => new PlanCatalog([plan, plan])).toThrow(PlanCatalogError);
  });
});
