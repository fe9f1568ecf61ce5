import { describe, expect, it } from 'vitest';
import { logLoss, rocAuc } from './churn-metrics.ts';

describe('ROC AUC', () => {
  it('is 1 for a perfect ranking, 0 for a reversed one, 0.5 when every score ties', () => {
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(rocAuc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5);
  });

  it('counts the pairs a positive wins, ties as half', () => {
    // Positives 0.4 and 0.7; negatives 0.1, 0.4, 0.8. Pairs won: (0.4>0.1), tie (0.4=0.4), (0.7>0.1), (0.7>0.4) → 3.5 of 6.
    expect(rocAuc([0.4, 0.7, 0.1, 0.4, 0.8], [1, 1, 0, 0, 0])).toBeCloseTo(3.5 / 6, 12);
  });

  it('is null without both classes', () => {
    expect(rocAuc([0.1, 0.2], [1, 1])).toBeNull();
    expect(rocAuc([], [])).toBeNull();
  });
});

describe('log loss', () => {
  it('is the mean negative log-likelihood', () => {
    expect(logLoss([0.5, 0.5], [0, 1])).toBeCloseTo(Math.log(2), 12);
    expect(logLoss([0.9, 0.2], [1, 0])).toBeCloseTo(-(Math.log(0.9) + Math.log(0.8)) / 2, 12);
  });

  it('stays finite for a confident mistake', () => {
    expect(logLoss([0], [1])).toBeCloseTo(-Math.log(1e-15), 6);
  });
});
