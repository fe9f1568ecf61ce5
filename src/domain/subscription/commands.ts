import type { Message } from '../decider.ts';
import type { BillingInterval, Money } from '../events/common.ts';

/** Starts an active subscription; its first period (index 0), from `start`, was paid at registration. */
export type CreateSubscription = Message<
  'CreateSubscription',
  {
    subscriptionId: string;
    customerId: string;
    planId: string;
    /** The plan's price, fixed for the subscription's life. */
    price: Money;
    interval: BillingInterval;
    start: string;
    /** Defaults to `start`. */
    createdAt?: string;
  }
>;

/** The renewal charge for period `periodIndex` (1 for the first renewal) succeeded. */
export type RenewSubscription = Message<
  'RenewSubscription',
  {
    subscriptionId: string;
    periodIndex: number;
    paymentId: string;
    amount: number;
    currency: string;
    renewedAt: string;
  }
>;

/** The renewal charge for `periodIndex` failed; `nextRetryAt` is the dunning schedule's next try, null when it is exhausted. */
export type RecordRenewalFailed = Message<
  'RecordRenewalFailed',
  {
    subscriptionId: string;
    periodIndex: number;
    paymentId: string;
    attempt: number;
    declineCode: string;
    failedAt: string;
    nextRetryAt: string | null;
  }
>;

/** Cancels now, or at the end of the paid period (the subscription stays active until then). */
export type CancelSubscription = Message<
  'CancelSubscription',
  {
    subscriptionId: string;
    atPeriodEnd: boolean;
    /** Defaults to `customer_request`. */ reason?: string;
    requestedAt: string;
  }
>;

/** A subscription cancelled at period end reached its `cancelAt`: it ends. */
export type EndSubscription = Message<'EndSubscription', { subscriptionId: string; endedAt: string }>;

export type SubscriptionCommand =
  CreateSubscription | RenewSubscription | RecordRenewalFailed | CancelSubscription | EndSubscription;
