/**
 * What the churn model knows of a subscription at one moment: the ML training consumer builds it
 * for each renewal ("stayed") and cancellation ("churned") from the subscription's history up to
 * that event; the Subscription API builds it from the subscription view to score active ones.
 */
export interface ChurnFeatures {
  planId: string;
  /** The price per period in minor units. */
  priceAmount: number;
  currency: string;
  interval: 'month' | 'year';
  /** Paid periods so far, the first included (1 + renewals). */
  tenurePeriods: number;
  renewals: number;
  /** Declined renewal charges so far (each dunning attempt counts). */
  failedPayments: number;
  daysSinceSignup: number;
}

/** The current churn model, if one is trained: the probability in [0, 1] that the subscription churns. */
export interface ChurnScorer {
  score(features: ChurnFeatures): number | null;
}
