/** A fitted binary logistic regression and its probabilities; fitting it is `logistic-regression.ts`. */
export interface LogisticFit {
  intercept: number;
  weights: number[];
  iterations: number;
  converged: boolean;
}

export const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** b + w·x, `theta` holding b then w. */
export const linear = (theta: readonly number[], row: readonly number[]) => {
  let z = theta[0]!;
  for (let j = 0; j < row.length; j++) z += theta[j + 1]! * row[j]!;
  return z;
};

/** P(y = 1 | row) under a fit. */
export const predictProbability = (fit: Pick<LogisticFit, 'intercept' | 'weights'>, row: readonly number[]): number =>
  sigmoid(linear([fit.intercept, ...fit.weights], row));
