import { describe, expect, it } from 'vitest';
import { predictProbability, sigmoid } from './logistic-model.ts';
import { fitLogisticRegression } from './logistic-regression.ts';

/** A seeded generator (mulberry32): the same data at every run. */
const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

describe('logistic regression (Newton, L2)', () => {
  it('recovers the coefficients that generated the data', () => {
    const random = seeded(7);
    const x: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const row = [random() < 0.3 ? 1 : 0, random() * 2 - 1];
      x.push(row);
      y.push(random() < sigmoid(-1.5 + 1.2 * row[0]! + 2 * row[1]!) ? 1 : 0);
    }
    const fit = fitLogisticRegression(x, y, { l2: 0 });
    expect(fit.converged).toBe(true);
    expect(fit.intercept).toBeCloseTo(-1.5, 0);
    expect(fit.weights[0]).toBeCloseTo(1.2, 0);
    expect(fit.weights[1]).toBeCloseTo(2, 0);
    expect(Math.abs(fit.weights[1]! - 2)).toBeLessThan(0.15);
  });

  it('matches the closed form of a single binary feature: the log odds of each group', () => {
    // Group 0: 1 positive in 4; group 1: 3 in 4. Unpenalised, b = logit(1/4), b + w = logit(3/4).
    const x = [[0], [0], [0], [0], [1], [1], [1], [1]];
    const y = [1, 0, 0, 0, 1, 1, 1, 0];
    const fit = fitLogisticRegression(x, y, { l2: 0 });
    expect(fit.intercept).toBeCloseTo(Math.log(1 / 3), 5);
    expect(fit.intercept + fit.weights[0]!).toBeCloseTo(Math.log(3), 5);
    expect(predictProbability(fit, [1])).toBeCloseTo(0.75, 5);
  });

  it('stays finite on separable data thanks to the penalty, and the penalty shrinks the weights', () => {
    const x = [[-2], [-1], [-0.5], [0.5], [1], [2]];
    const y = [0, 0, 0, 1, 1, 1];
    const light = fitLogisticRegression(x, y, { l2: 1e-3 });
    const heavy = fitLogisticRegression(x, y, { l2: 1 });
    expect(light.converged && heavy.converged).toBe(true);
    expect(Number.isFinite(light.weights[0])).toBe(true);
    expect(light.weights[0]).toBeGreaterThan(heavy.weights[0]!);
    expect(heavy.weights[0]).toBeGreaterThan(0);
  });

  it('copes with duplicate (collinear) columns: the penalty splits the weight between them', () => {
    const x = [
      [0, 0],
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
      [1, 1],
    ];
    const y = [0, 1, 1, 1, 0, 0];
    const fit = fitLogisticRegression(x, y, { l2: 1e-2 });
    expect(fit.converged).toBe(true);
    expect(fit.weights[0]).toBeCloseTo(fit.weights[1]!, 8);
  });

  it('computes the sigmoid without overflow', () => {
    expect(sigmoid(1000)).toBe(1);
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(0)).toBe(0.5);
  });
});
