import type { Decider } from '../decider.ts';
import { AlreadyExistsError, InvalidCommandError, InvalidTransitionError, NotFoundError } from '../errors.ts';
import type { BillingInterval, Money, Period } from '../events/common.ts';
import { assertMoney } from '../money.ts';
import { instant, isBefore, later } from '../time.ts';
import type {
  CancelSubscription,
  CreateSubscription,
  EndSubscription,
  RecordRenewalFailed,
  RenewSubscription,
  SubscriptionCommand,
} from './commands.ts';
import type { SubscriptionEvent } from './events.ts';
import { periodAt, periodEnd } from './period.ts';

/** active → past_due → active | cancelled; cancelled at period end: active with `cancelAt` → ended. */
export type SubscriptionStatus = 'active' | 'past_due' | 'cancelled' | 'ended';

export interface Cancellation {
  reason: string;
  atPeriodEnd: boolean;
  requestedAt: string;
  effectiveAt: string;
}

/** The last failed renewal attempt. */
export interface Dunning {
  periodIndex: number;
  attempt: number;
  paymentId: string;
  declineCode: string;
  failedAt: string;
  /** Null when the dunning schedule is exhausted. */
  nextRetryAt: string | null;
}

export interface ExistingSubscription {
  status: SubscriptionStatus;
  subscriptionId: string;
  customerId: string;
  planId: string;
  price: Money;
  interval: BillingInterval;
  /** The first period's start: every period is counted from it. */
  anchor: string;
  /** 0 for the period bought at registration, n after the n-th renewal. */
  periodIndex: number;
  currentPeriod: Period;
  createdAt: string;
  /** Set once a cancellation is requested: from then on the subscription is never charged again. */
  cancellation: Cancellation | null;
  /** When a cancellation at period end takes effect; null otherwise. */
  cancelAt: string | null;
  dunning: Dunning | null;
  endedAt: string | null;
}

export type Subscription = { status: 'none' } | ExistingSubscription;

export const initialState: Subscription = { status: 'none' };

const CUSTOMER_REQUEST = 'customer_request';
const PAYMENT_FAILED = 'payment_failed';

const notFound = (subscriptionId: string) =>
  new NotFoundError('subscription', 'subscription_not_found', `subscription ${subscriptionId} does not exist`);

const afterCancellation = (state: ExistingSubscription) =>
  new InvalidTransitionError(
    'subscription',
    'renewal_after_cancellation',
    `subscription ${state.subscriptionId} was cancelled: it is never charged again`,
  );

const create = ({ data }: CreateSubscription, state: Subscription): SubscriptionEvent[] => {
  if (state.status !== 'none') {
    const same =
      state.customerId === data.customerId &&
      state.planId === data.planId &&
      state.interval === data.interval &&
      state.price.amount === data.price.amount &&
      state.price.currency === data.price.currency;
    if (same) return [];
    throw new AlreadyExistsError(
      'subscription',
      'subscription_exists',
      `subscription ${data.subscriptionId} already exists with other data`,
    );
  }
  assertMoney('subscription', data.price.amount, data.price.currency);
  const start = instant('subscription', 'start', data.start);
  const { subscriptionId, customerId, planId, interval } = data;
  return [
    {
      type: 'SubscriptionCreated',
      data: {
        subscriptionId,
        customerId,
        planId,
        price: { amount: data.price.amount, currency: data.price.currency },
        interval,
        currentPeriod: { start, end: periodEnd(start, interval) },
        createdAt: instant('subscription', 'createdAt', data.createdAt ?? data.start),
      },
    },
  ];
};

/** A renewal is charged when the current period has ended, for the next period, at the subscription's price. */
const assertRenewalDue = (state: ExistingSubscription, periodIndex: number, at: string): void => {
  if (periodIndex !== state.periodIndex + 1) {
    throw new InvalidCommandError(
      'subscription',
      'period_index_gap',
      `renewal of period ${periodIndex}, but period ${state.periodIndex} is the current one`,
    );
  }
  if (isBefore(at, state.currentPeriod.end)) {
    throw new InvalidCommandError(
      'subscription',
      'renewal_not_due',
      `period ${state.periodIndex} runs until ${state.currentPeriod.end}`,
    );
  }
};

const renew = ({ data }: RenewSubscription, state: Subscription): SubscriptionEvent[] => {
  if (state.status === 'none') throw notFound(data.subscriptionId);
  if (data.periodIndex <= state.periodIndex) return [];
  if (state.cancellation) throw afterCancellation(state);
  const renewedAt = instant('subscription', 'renewedAt', data.renewedAt);
  assertRenewalDue(state, data.periodIndex, renewedAt);
  if (data.amount !== state.price.amount || data.currency !== state.price.currency) {
    throw new InvalidCommandError(
      'subscription',
      'price_mismatch',
      `renewal paid ${data.amount} ${data.currency}, the price is ${state.price.amount} ${state.price.currency}`,
    );
  }
  const { subscriptionId, customerId, planId, anchor, interval } = state;
  const { periodIndex, paymentId, amount, currency } = data;
  return [
    {
      type: 'SubscriptionRenewed',
      data: {
        subscriptionId,
        customerId,
        planId,
        periodIndex,
        period: periodAt(anchor, interval, periodIndex),
        paymentId,
        amount,
        currency,
        renewedAt,
      },
    },
  ];
};

const renewalFailed = ({ data }: RecordRenewalFailed, state: Subscription): SubscriptionEvent[] => {
  if (state.status === 'none') throw notFound(data.subscriptionId);
  if (data.periodIndex <= state.periodIndex) return [];
  if (state.dunning?.periodIndex === data.periodIndex && data.attempt <= state.dunning.attempt) return [];
  if (state.cancellation) throw afterCancellation(state);
  if (!Number.isSafeInteger(data.attempt) || data.attempt < 1) {
    throw new InvalidCommandError('subscription', 'invalid_attempt', `attempt: 1, 2, ..., got ${data.attempt}`);
  }
  const failedAt = instant('subscription', 'failedAt', data.failedAt);
  assertRenewalDue(state, data.periodIndex, failedAt);
  const nextRetryAt = data.nextRetryAt === null ? null : instant('subscription', 'nextRetryAt', data.nextRetryAt);
  if (nextRetryAt !== null && !isBefore(failedAt, nextRetryAt)) {
    throw new InvalidCommandError(
      'subscription',
      'invalid_retry_time',
      `nextRetryAt ${nextRetryAt} is not after failedAt ${failedAt}`,
    );
  }
  const { subscriptionId, customerId } = state;
  const { periodIndex, paymentId, attempt, declineCode } = data;
  const pastDue: SubscriptionEvent = {
    type: 'SubscriptionPastDue',
    data: { subscriptionId, customerId, periodIndex, paymentId, attempt, declineCode, failedAt, nextRetryAt },
  };
  if (nextRetryAt !== null) return [pastDue];
  // Dunning exhausted: the subscription is cancelled now, for non-payment.
  return [
    pastDue,
    {
      type: 'SubscriptionCancelled',
      data: {
        subscriptionId,
        customerId,
        reason: PAYMENT_FAILED,
        atPeriodEnd: false,
        requestedAt: failedAt,
        effectiveAt: failedAt,
      },
    },
  ];
};

const cancel = ({ data }: CancelSubscription, state: Subscription): SubscriptionEvent[] => {
  if (state.status === 'none') throw notFound(data.subscriptionId);
  if (state.status === 'cancelled' || state.status === 'ended') return [];
  // Already cancelled at period end: asking again is a repeat; asking to cancel now brings the end forward.
  if (state.cancelAt !== null && data.atPeriodEnd) return [];
  const requestedAt = instant('subscription', 'requestedAt', data.requestedAt);
  // A period already over (past due, or a renewal not yet run) has no paid time left: the end is now.
  const effectiveAt = data.atPeriodEnd ? later(state.currentPeriod.end, requestedAt) : requestedAt;
  const { subscriptionId, customerId } = state;
  return [
    {
      type: 'SubscriptionCancelled',
      data: {
        subscriptionId,
        customerId,
        reason: data.reason ?? CUSTOMER_REQUEST,
        atPeriodEnd: data.atPeriodEnd,
        requestedAt,
        effectiveAt,
      },
    },
  ];
};

const end = ({ data }: EndSubscription, state: Subscription): SubscriptionEvent[] => {
  if (state.status === 'none') throw notFound(data.subscriptionId);
  if (state.status === 'cancelled' || state.status === 'ended') return [];
  if (state.cancelAt === null || state.cancellation === null) {
    throw new InvalidTransitionError(
      'subscription',
      'not_cancelled',
      `subscription ${state.subscriptionId} is not cancelled at period end`,
    );
  }
  if (isBefore(instant('subscription', 'endedAt', data.endedAt), state.cancelAt)) {
    throw new InvalidCommandError(
      'subscription',
      'end_not_due',
      `subscription ${state.subscriptionId} ends at ${state.cancelAt}`,
    );
  }
  const { subscriptionId, customerId } = state;
  return [
    {
      type: 'SubscriptionEnded',
      data: { subscriptionId, customerId, reason: state.cancellation.reason, endedAt: state.cancelAt },
    },
  ];
};

export const decide = (command: SubscriptionCommand, state: Subscription): SubscriptionEvent[] => {
  if (state.status !== 'none' && state.subscriptionId !== command.data.subscriptionId) {
    throw new InvalidCommandError(
      'subscription',
      'wrong_subscription',
      `command for subscription ${command.data.subscriptionId} sent to subscription ${state.subscriptionId}`,
    );
  }
  switch (command.type) {
    case 'CreateSubscription':
      return create(command, state);
    case 'RenewSubscription':
      return renew(command, state);
    case 'RecordRenewalFailed':
      return renewalFailed(command, state);
    case 'CancelSubscription':
      return cancel(command, state);
    case 'EndSubscription':
      return end(command, state);
  }
};

export const evolve = (state: Subscription, event: SubscriptionEvent): Subscription => {
  if (event.type === 'SubscriptionCreated') {
    const { subscriptionId, customerId, planId, price, interval, currentPeriod, createdAt } = event.data;
    return {
      status: 'active',
      subscriptionId,
      customerId,
      planId,
      price,
      interval,
      anchor: currentPeriod.start,
      periodIndex: 0,
      currentPeriod,
      createdAt,
      cancellation: null,
      cancelAt: null,
      dunning: null,
      endedAt: null,
    };
  }
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'SubscriptionRenewed':
      return {
        ...state,
        status: 'active',
        periodIndex: event.data.periodIndex,
        currentPeriod: event.data.period,
        dunning: null,
      };
    case 'SubscriptionPastDue': {
      const { periodIndex, attempt, paymentId, declineCode, failedAt, nextRetryAt } = event.data;
      return {
        ...state,
        status: 'past_due',
        dunning: { periodIndex, attempt, paymentId, declineCode, failedAt, nextRetryAt },
      };
    }
    case 'SubscriptionCancelled': {
      const { reason, atPeriodEnd, requestedAt, effectiveAt } = event.data;
      const cancellation = { reason, atPeriodEnd, requestedAt, effectiveAt };
      return isBefore(requestedAt, effectiveAt)
        ? { ...state, cancellation, cancelAt: effectiveAt }
        : { ...state, status: 'cancelled', cancellation, cancelAt: null, endedAt: effectiveAt };
    }
    case 'SubscriptionEnded':
      return { ...state, status: 'ended', cancelAt: null, endedAt: event.data.endedAt };
  }
};

export const subscriptionDecider: Decider<SubscriptionCommand, Subscription, SubscriptionEvent> = {
  decide,
  evolve,
  initialState,
};
