import { CholeskyDecomposition, Matrix, solve } from 'ml-matrix';
import { linear, sigmoid, type LogisticFit } from './logistic-model.ts';

/**
 * Binary logistic regression with an L2 penalty, fitted by Newton's method (IRLS) with a
 * backtracking line search on the penalised mean log loss. ml-logistic-regression 2.0.0 does not
 * fit here: no intercept, no regularisation, a fixed step on the summed (not mean) gradient whose
 * stability depends on the number of rows, no probabilities for two classes and no convergence
 * test. The objective is strictly convex (L2), so Newton reaches its one optimum in a few steps,
 * whatever the order of the rows; ml-matrix solves each step.
 */
export interface LogisticOptions {
  /** λ in mean log loss + λ/2·‖w‖² (the intercept is not penalised). */
  l2: number;
  maxIterations?: number;
  /** Stops when half the squared Newton decrement falls below it. */
  tolerance?: number;
}

/** log(1 + e^z) without overflow. */
const softplus = (z: number) => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));

function objective(x: readonly number[][], y: readonly number[], theta: readonly number[], l2: number): number {
  let loss = 0;
  for (let i = 0; i < x.length; i++) {
    const z = linear(theta, x[i]!);
    loss += softplus(z) - y[i]! * z;
  }
  let penalty = 0;
  for (let j = 1; j < theta.length; j++) penalty += theta[j]! ** 2;
  return loss / x.length + (l2 / 2) * penalty;
}

/** Fits P(y = 1 | x) = σ(b + w·x); `y` holds 0 and 1. */
export function fitLogisticRegression(
  x: readonly number[][],
  y: readonly number[],
  options: LogisticOptions,
): LogisticFit {
  const n = x.length;
  if (n === 0 || n !== y.length)
    throw new RangeError('fitLogisticRegression needs as many labels as rows, and at least one');
  const d = x[0]!.length + 1;
  const { l2, maxIterations = 50, tolerance = 1e-10 } = options;
  let theta = new Array<number>(d).fill(0);
  let current = objective(x, y, theta, l2);
  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    const gradient = new Array<number>(d).fill(0);
    const h = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    for (let i = 0; i < n; i++) {
      const row = x[i]!;
      const p = sigmoid(linear(theta, row));
      const residual = (p - y[i]!) / n;
      const weight = (p * (1 - p)) / n;
      gradient[0]! += residual;
      h[0]![0]! += weight;
      for (let j = 1; j < d; j++) {
        const xj = row[j - 1]!;
        gradient[j]! += residual * xj;
        const wxj = weight * xj;
        const hj = h[j]!;
        h[0]![j]! += wxj;
        for (let k = j; k < d; k++) hj[k]! += wxj * row[k - 1]!;
      }
    }
    for (let j = 1; j < d; j++) {
      gradient[j]! += l2 * theta[j]!;
      h[j]![j]! += l2;
    }
    // A tiny ridge on the intercept keeps the system solvable when every p is near 0 or 1.
    h[0]![0]! += 1e-12;
    for (let j = 0; j < d; j++) for (let k = 0; k < j; k++) h[j]![k] = h[k]![j]!;
    const hessian = new Matrix(h);

    const g = Matrix.columnVector(gradient);
    const cholesky = new CholeskyDecomposition(hessian);
    const step = (cholesky.isPositiveDefinite() ? cholesky.solve(g) : solve(hessian, g)).to1DArray();
    const decrement = step.reduce((sum, s, j) => sum + s * gradient[j]!, 0);
    if (decrement / 2 < tolerance)
      return { intercept: theta[0]!, weights: theta.slice(1), iterations: iteration, converged: true };

    // Backtracking (Armijo): never accept a step that raises the objective.
    let t = 1;
    let next = theta.map((value, j) => value - t * step[j]!);
    let value = objective(x, y, next, l2);
    while (value > current - 1e-4 * t * decrement && t > 1e-10) {
      t /= 2;
      next = theta.map((v, j) => v - t * step[j]!);
      value = objective(x, y, next, l2);
    }
    if (t <= 1e-10) return { intercept: theta[0]!, weights: theta.slice(1), iterations: iteration, converged: false };
    theta = next;
    current = value;
  }
  return { intercept: theta[0]!, weights: theta.slice(1), iterations: maxIterations, converged: false };
}
