import { describe, expect, it } from 'vitest';
import type { ChurnFeatures } from '../../domain/churn/churn-features.ts';
import { encodeChurnFeatures, encodedNames, fitChurnEncoding } from './churn-encoding.ts';

const features = (overrides: Partial<ChurnFeatures> = {}): ChurnFeatures => ({
  planId: 'basic-monthly',
  priceAmount: 999,
  currency: 'EUR',
  interval: 'month',
  tenurePeriods: 1,
  renewals: 0,
  failedPayments: 0,
  daysSinceSignup: 0,
  ...overrides,
});

describe('churn feature encoding', () => {
  const training = [
    features(),
    features({ planId: 'pro-monthly', priceAmount: 2999, renewals: 2, tenurePeriods: 3, daysSinceSignup: 60 }),
    features({
      planId: 'pro-yearly',
      interval: 'year',
      currency: 'USD',
      priceAmount: 29999,
      renewals: 1,
      tenurePeriods: 2,
      daysSinceSignup: 365,
    }),
  ];
  const encoding = fitChurnEncoding(training);

  it('one-hot encodes plan, currency and interval, then the numeric features, with names in the same order', () => {
    expect(encodedNames(encoding)).toEqual([
      'plan=basic-monthly',
      'plan=pro-monthly',
      'plan=pro-yearly',
      'currency=EUR',
      'currency=USD',
      'interval=month',
      'interval=year',
      'logPrice',
      'tenurePeriods',
      'failedPayments',
    ]);
    const row = encodeChurnFeatures(encoding, training[2]!);
    expect(row.slice(0, 7)).toEqual([0, 0, 1, 0, 1, 0, 1]);
    expect(row).toHaveLength(10);
  });

  it('standardises numeric features to mean 0 and deviation 1 on the training set', () => {
    const columns = training.map((f) => encodeChurnFeatures(encoding, f));
    for (const index of [7, 8]) {
      const values = columns.map((row) => row[index]!);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
      expect(mean).toBeCloseTo(0, 12);
      expect(variance).toBeCloseTo(1, 12);
    }
  });

  it('keeps a constant feature at zero rather than dividing by zero', () => {
    expect(encoding.numeric.find((f) => f.name === 'failedPayments')).toMatchObject({ mean: 0, scale: 1 });
    expect(encodeChurnFeatures(encoding, features({ failedPayments: 2 }))[9]).toBe(2);
  });

  it('leaves out the days since signup (they tell a mid-period cancellation from a renewal at the boundary) and renewals (tenure - 1)', () => {
    const base = encodeChurnFeatures(encoding, features({ renewals: 1, tenurePeriods: 2, daysSinceSignup: 30 }));
    expect(encodeChurnFeatures(encoding, features({ renewals: 1, tenurePeriods: 2, daysSinceSignup: 47 }))).toEqual(
      base,
    );
  });

  it('encodes a plan or currency it never saw as all zeros', () => {
    const row = encodeChurnFeatures(encoding, features({ planId: 'enterprise', currency: 'JPY' }));
    expect(row.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(row.every(Number.isFinite)).toBe(true);
  });
});
