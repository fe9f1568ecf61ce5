import type { ChurnFeatures } from '../../domain/churn/churn-features.ts';
import { fitChurnEncoding, encodeChurnFeatures } from './churn-encoding.ts';
import { logLoss, rocAuc } from './churn-metrics.ts';
import { churnModelParameters, churnProbability, type ChurnModelParameters } from './churn-model.ts';
import { isHeldOut } from './holdout.ts';
import { fitLogisticRegression } from './logistic-regression.ts';

/** A labelled example: a renewal (stayed) or a cancellation (churned) with the features known then. */
export interface ChurnExample {
  subscriptionId: string;
  churned: boolean;
  features: ChurnFeatures;
}

/** Below these, a model or its metrics would mean little: no model is trained. */
export const MIN_TRAINING_EXAMPLES = 40;
export const MIN_TEST_EXAMPLES = 10;
/** Mild shrinkage on standardised features: stable with collinear one-hot columns, little bias at this size. */
export const L2 = 1e-3;

export interface SetSizes {
  trainingSize: number;
  testSize: number;
  trainingChurned: number;
  testChurned: number;
}

export type TrainingResult =
  | ({ trained: true; parameters: ChurnModelParameters; auc: number; logLoss: number } & SetSizes)
  | ({ trained: false; reason: string } & SetSizes);

/** Splits by subscription, fits on the training side and evaluates on the held-out side. Pure. */
export function trainChurnModel(examples: readonly ChurnExample[]): TrainingResult {
  const training = examples.filter((example) => !isHeldOut(example.subscriptionId));
  const test = examples.filter((example) => isHeldOut(example.subscriptionId));
  const churned = (set: readonly ChurnExample[]) => set.filter((example) => example.churned).length;
  const sizes: SetSizes = {
    trainingSize: training.length,
    testSize: test.length,
    trainingChurned: churned(training),
    testChurned: churned(test),
  };
  const refuse = (reason: string): TrainingResult => ({ trained: false, reason, ...sizes });

  if (training.length < MIN_TRAINING_EXAMPLES || test.length < MIN_TEST_EXAMPLES) {
    return refuse(
      `too few examples: ${training.length} for training (at least ${MIN_TRAINING_EXAMPLES}) and ${test.length} held out (at least ${MIN_TEST_EXAMPLES})`,
    );
  }
  for (const [name, set, positives] of [
    ['training', training, sizes.trainingChurned],
    ['test', test, sizes.testChurned],
  ] as const) {
    if (positives === 0 || positives === set.length)
      return refuse(
        `the ${name} set holds a single class (${positives === 0 ? 'no cancellations' : 'only cancellations'})`,
      );
  }

  const encoding = fitChurnEncoding(training.map((example) => example.features));
  const x = training.map((example) => encodeChurnFeatures(encoding, example.features));
  const y = training.map((example) => (example.churned ? 1 : 0));
  const parameters = churnModelParameters(encoding, fitLogisticRegression(x, y, { l2: L2 }), L2);

  const labels = test.map((example) => (example.churned ? 1 : 0));
  const probabilities = test.map((example) => churnProbability(parameters, example.features));
  return {
    trained: true,
    parameters,
    auc: rocAuc(probabilities, labels)!,
    logLoss: logLoss(probabilities, labels),
    ...sizes,
  };
}
