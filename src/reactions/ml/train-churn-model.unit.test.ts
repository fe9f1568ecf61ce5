import { v5 as uuidv5 } from 'uuid';
import { describe, expect, it } from 'vitest';
import type { ChurnFeatures } from '../../domain/churn/churn-features.ts';
import { churnModelParametersSchema, churnProbability } from './churn-model.ts';
import { HOLDOUT_SHARE, isHeldOut } from './holdout.ts';
import { trainChurnModel, type ChurnExample } from './train-churn-model.ts';

const NAMESPACE = '6f1c0e9a-6d5b-4f3e-9a51-3f0d5c2b7e10';
const subscription = (n: number) => uuidv5(String(n), NAMESPACE);

const features = (planId: string, renewals: number): ChurnFeatures => ({
  planId,
  priceAmount: planId === 'risky' ? 1900 : 2900,
  currency: 'EUR',
  interval: 'month',
  tenurePeriods: 1 + renewals,
  renewals,
  failedPayments: 0,
  daysSinceSignup: 30 * renewals,
});

/** Subscription n: plan `risky` for even n; churns after `life(n)` renewals. */
function examples(count: number, life: (n: number) => number): ChurnExample[] {
  const all: ChurnExample[] = [];
  for (let n = 0; n < count; n++) {
    const planId = n % 2 === 0 ? 'risky' : 'steady';
    const renewals = life(n);
    for (let r = 0; r < renewals; r++)
      all.push({ subscriptionId: subscription(n), churned: false, features: features(planId, r) });
    all.push({ subscriptionId: subscription(n), churned: true, features: features(planId, renewals) });
  }
  return all;
}

describe('held-out split', () => {
  it('is deterministic and holds out about its share of subscriptions', () => {
    const ids = Array.from({ length: 2000 }, (_, n) => subscription(n));
    const held = ids.filter(isHeldOut).length;
    expect(ids.filter(isHeldOut)).toEqual(ids.filter(isHeldOut));
    expect(held / ids.length).toBeGreaterThan(HOLDOUT_SHARE - 0.04);
    expect(held / ids.length).toBeLessThan(HOLDOUT_SHARE + 0.04);
  });
});

describe('training a churn model', () => {
  it('refuses with too few examples, saying so', () => {
    const result = trainChurnModel(examples(5, () => 2));
    expect(result).toMatchObject({ trained: false, reason: expect.stringMatching(/^too few examples/) });
  });

  it('refuses a single class', () => {
    const stayed = examples(100, () => 3).filter((example) => !example.churned);
    const result = trainChurnModel(stayed);
    expect(result).toMatchObject({
      trained: false,
      reason: expect.stringMatching(/single class \(no cancellations\)/),
    });
  });

  it('fits on one side of the split, evaluates on the other, and learns the riskier plan', () => {
    // risky subscriptions leave after 1 renewal, steady ones after 6.
    const all = examples(300, (n) => (n % 2 === 0 ? 1 : 6));
    const result = trainChurnModel(all);
    if (!result.trained) throw new Error(result.reason);
    expect(result.trainingSize + result.testSize).toBe(all.length);
    expect(result.testSize).toBe(all.filter((example) => isHeldOut(example.subscriptionId)).length);
    expect(result.testChurned).toBe(
      all.filter((example) => example.churned && isHeldOut(example.subscriptionId)).length,
    );
    expect(result.auc).toBeGreaterThan(0.75);
    expect(result.logLoss).toBeGreaterThan(0);
    expect(churnModelParametersSchema.parse(JSON.parse(JSON.stringify(result.parameters)))).toEqual(result.parameters);
    const sameBut = (planId: string) => ({ ...features(planId, 1), priceAmount: 2900 });
    expect(churnProbability(result.parameters, sameBut('risky'))).toBeGreaterThan(
      churnProbability(result.parameters, sameBut('steady')),
    );
  });
});
