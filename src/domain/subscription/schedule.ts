import { millisOf } from '../time.ts';
import type { Subscription } from './decider.ts';

export interface RenewalDue {
  /** The period to charge for: the idempotency key is `subscriptionId:periodIndex`. */
  periodIndex: number;
  /** 1 for the charge when the period ends, then one more per dunning retry. */
  attempt: number;
  dueAt: string;
  amount: number;
  currency: string;
}

/**
 * The next renewal charge: at the end of the current period, or at the dunning retry when past
 * due. Null when none is ever due again: cancelled (even at period end), ended, or dunning exhausted.
 */
export const nextRenewalDue = (state: Subscription): RenewalDue | null => {
  if (state.status === 'none' || state.cancellation !== null) return null;
  const { amount, currency } = state.price;
  if (state.status === 'active')
    return { periodIndex: state.periodIndex + 1, attempt: 1, dueAt: state.currentPeriod.end, amount, currency };
  if (state.status === 'past_due' && state.dunning?.nextRetryAt) {
    return {
      periodIndex: state.dunning.periodIndex,
      attempt: state.dunning.attempt + 1,
      dueAt: state.dunning.nextRetryAt,
      amount,
      currency,
    };
  }
  return null;
};

/** Whether a renewal may be charged at `at`: one is due, and no cancellation was ever requested. */
export const isChargeable = (state: Subscription, at: string | Date): boolean => {
  const due = nextRenewalDue(state);
  return due !== null && millisOf(at) >= millisOf(due.dueAt);
};

/** When a subscription cancelled at period end ends (then EndSubscription); null if it is not so cancelled. */
export const scheduledEnd = (state: Subscription): string | null => (state.status === 'none' ? null : state.cancelAt);
