import { z } from 'zod';
import type { ChurnFeatures } from '../../domain/churn/churn-features.ts';

/**
 * How ChurnFeatures become the model's numbers: one-hot plan, currency and interval (the values
 * seen in training; an unseen one encodes as all zeros, the average effect), and the numeric
 * features standardised by the training set's mean and deviation. It lives with the model (stored
 * in its parameters) so that training and scoring (the Subscription API) encode alike.
 */
const numericFeatures = {
  /** Prices span orders of magnitude across plans and currencies. */
  logPrice: (features: ChurnFeatures) => Math.log1p(features.priceAmount),
  tenurePeriods: (features: ChurnFeatures) => features.tenurePeriods,
  failedPayments: (features: ChurnFeatures) => features.failedPayments,
  // Left out on purpose: `renewals` is tenurePeriods - 1, and `daysSinceSignup` leaks the label. A
  // renewal is observed at a period's end, a cancellation somewhere inside a period, so days since
  // signup beside tenure tell "mid-period" (churned) from "at a boundary" (stayed), which says
  // nothing about an active subscription scored mid-period. Tenure carries the age in periods.
} as const;

type NumericFeature = keyof typeof numericFeatures;
const NUMERIC = Object.keys(numericFeatures) as NumericFeature[];

export const churnEncodingSchema = z.object({
  plans: z.array(z.string()),
  currencies: z.array(z.string()),
  intervals: z.array(z.string()),
  numeric: z.array(
    z.object({
      name: z.enum(NUMERIC as [NumericFeature, ...NumericFeature[]]),
      mean: z.number(),
      scale: z.number().positive(),
    }),
  ),
});

export type ChurnEncoding = z.infer<typeof churnEncodingSchema>;

const distinct = (values: string[]) => [...new Set(values)].sort();

/** The encoding fitted on training examples. */
export function fitChurnEncoding(examples: readonly ChurnFeatures[]): ChurnEncoding {
  const n = examples.length;
  return {
    plans: distinct(examples.map((f) => f.planId)),
    currencies: distinct(examples.map((f) => f.currency)),
    intervals: distinct(examples.map((f) => f.interval)),
    numeric: NUMERIC.map((name) => {
      const values = examples.map(numericFeatures[name]);
      const mean = values.reduce((sum, v) => sum + v, 0) / n;
      const deviation = Math.sqrt(values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / n);
      // A constant feature carries nothing: scale 1 keeps it at zero rather than dividing by zero.
      return { name, mean, scale: deviation > 1e-12 ? deviation : 1 };
    }),
  };
}

/** The names of the encoded columns, in order (`plan=pro-monthly`, ..., `renewals`). */
export const encodedNames = (encoding: ChurnEncoding): string[] => [
  ...encoding.plans.map((plan) => `plan=${plan}`),
  ...encoding.currencies.map((currency) => `currency=${currency}`),
  ...encoding.intervals.map((interval) => `interval=${interval}`),
  ...encoding.numeric.map((feature) => feature.name),
];

export function encodeChurnFeatures(encoding: ChurnEncoding, features: ChurnFeatures): number[] {
  const oneHot = (values: string[], value: string) => values.map((candidate) => (candidate === value ? 1 : 0));
  return [
    ...oneHot(encoding.plans, features.planId),
    ...oneHot(encoding.currencies, features.currency),
    ...oneHot(encoding.intervals, features.interval),
    ...encoding.numeric.map(({ name, mean, scale }) => (numericFeatures[name](features) - mean) / scale),
  ];
}
