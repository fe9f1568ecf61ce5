import { createHash } from 'node:crypto';

/** The share of subscriptions held out to evaluate each model. */
export const HOLDOUT_SHARE = 0.2;

/**
 * Whether a subscription's examples belong to the test set: decided by a hash of its id, so the
 * split is the same at every training and all examples of one subscription sit on one side (a
 * model never meets a test subscription's earlier renewals while training).
 */
export function isHeldOut(subscriptionId: string): boolean {
  const digest = createHash('sha256').update(subscriptionId).digest();
  return digest.readUInt32BE(0) / 2 ** 32 < HOLDOUT_SHARE;
}
