import { z } from 'zod';
import type { ChurnFeatures } from '../../domain/churn/churn-features.ts';
import { churnEncodingSchema, encodeChurnFeatures, encodedNames, type ChurnEncoding } from './churn-encoding.ts';
import { predictProbability, type LogisticFit } from './logistic-model.ts';

/** A trained churn model as stored (churn_models.parameters) and served: enough to score alone. */
export const churnModelParametersSchema = z.object({
  algorithm: z.literal('logistic-regression'),
  l2: z.number().nonnegative(),
  encoding: churnEncodingSchema,
  intercept: z.number(),
  /** One per encoded column, in the encoding's order. */
  coefficients: z.array(z.object({ feature: z.string(), weight: z.number() })),
  iterations: z.int(),
  converged: z.boolean(),
});

export type ChurnModelParameters = z.infer<typeof churnModelParametersSchema>;

export function churnModelParameters(encoding: ChurnEncoding, fit: LogisticFit, l2: number): ChurnModelParameters {
  const names = encodedNames(encoding);
  return {
    algorithm: 'logistic-regression',
    l2,
    encoding,
    intercept: fit.intercept,
    coefficients: names.map((feature, index) => ({ feature, weight: fit.weights[index]! })),
    iterations: fit.iterations,
    converged: fit.converged,
  };
}

/** The probability that a subscription with these features churns, under the model. */
export function churnProbability(model: ChurnModelParameters, features: ChurnFeatures): number {
  const row = encodeChurnFeatures(model.encoding, features);
  if (row.length !== model.coefficients.length)
    throw new RangeError(
      `churn model has ${model.coefficients.length} coefficients for ${row.length} encoded features`,
    );
  return predictProbability({ intercept: model.intercept, weights: model.coefficients.map((c) => c.weight) }, row);
}
