import { describe, expect, it } from 'vitest';
import { deciderSpec } from '../../../test/support/decider-spec.ts';
import { EventCatalog } from '../../kernel/catalog/catalog.ts';
import { fold } from '../decider.ts';
import { AlreadyExistsError, InvalidCommandError, InvalidTransitionError, NotFoundError } from '../errors.ts';
import { seedEvents } from '../events/index.ts';
import type {
  CancelSubscription,
  CreateSubscription,
  EndSubscription,
  RecordRenewalFailed,
  RenewSubscription,
} from './commands.ts';
import { subscriptionDecider, type Subscription } from './decider.ts';
import type { SubscriptionEvent } from './events.ts';
import { isChargeable, nextRenewalDue, scheduledEnd } from './schedule.ts';

const catalog = new EventCatalog(seedEvents);
const { given } = deciderSpec(subscriptionDecider, { validate: (event) => catalog.validate(event.type, event.data) });

const subscriptionId = '01890a5d-ac96-774b-bcce-b302099a8058';
const customerId = '01890a5d-ac96-774b-bcce-b302099a8057';
const paymentId = (n: number) => `01890a5d-ac96-774b-bcce-b302099a81${String(n).padStart(2, '0')}`;
const price = { amount: 1999, currency: 'EUR' };
const ids = { subscriptionId, customerId };

const create = (overrides: Partial<CreateSubscription['data']> = {}): CreateSubscription => ({
  type: 'CreateSubscription',
  data: { ...ids, planId: 'pro-monthly', price, interval: 'month', start: '2025-01-15T10:00:00.000Z', ...overrides },
});
const renew = (
  periodIndex: number,
  renewedAt: string,
  overrides: Partial<RenewSubscription['data']> = {},
): RenewSubscription => ({
  type: 'RenewSubscription',
  data: {
    subscriptionId,
    periodIndex,
    paymentId: paymentId(periodIndex),
    amount: 1999,
    currency: 'EUR',
    renewedAt,
    ...overrides,
  },
});
const renewalFailed = (
  attempt: number,
  failedAt: string,
  nextRetryAt: string | null,
  periodIndex = 1,
): RecordRenewalFailed => ({
  type: 'RecordRenewalFailed',
  data: {
    subscriptionId,
    periodIndex,
    paymentId: paymentId(50 + attempt),
    attempt,
    declineCode: 'insufficient_funds',
    failedAt,
    nextRetryAt,
  },
});
const cancel = (
  atPeriodEnd: boolean,
  requestedAt = '2025-01-20T09:00:00.000Z',
  reason?: string,
): CancelSubscription => ({
  type: 'CancelSubscription',
  data: { subscriptionId, atPeriodEnd, requestedAt, ...(reason === undefined ? {} : { reason }) },
});
const end = (endedAt: string): EndSubscription => ({ type: 'EndSubscription', data: { subscriptionId, endedAt } });

const created: SubscriptionEvent = {
  type: 'SubscriptionCreated',
  data: {
    ...ids,
    planId: 'pro-monthly',
    price,
    interval: 'month',
    currentPeriod: { start: '2025-01-15T10:00:00.000Z', end: '2025-02-15T10:00:00.000Z' },
    createdAt: '2025-01-15T10:00:00.000Z',
  },
};
const renewed = (
  periodIndex: number,
  start: string,
  endAt: string,
  renewedAt = start,
): Extract<SubscriptionEvent, { type: 'SubscriptionRenewed' }> => ({
  type: 'SubscriptionRenewed',
  data: {
    ...ids,
    planId: 'pro-monthly',
    periodIndex,
    period: { start, end: endAt },
    paymentId: paymentId(periodIndex),
    amount: 1999,
    currency: 'EUR',
    renewedAt,
  },
});
const renewed1 = renewed(1, '2025-02-15T10:00:00.000Z', '2025-03-15T10:00:00.000Z');
const pastDue = (
  attempt: number,
  failedAt: string,
  nextRetryAt: string | null,
  periodIndex = 1,
): SubscriptionEvent => ({
  type: 'SubscriptionPastDue',
  data: {
    ...ids,
    periodIndex,
    paymentId: paymentId(50 + attempt),
    attempt,
    declineCode: 'insufficient_funds',
    failedAt,
    nextRetryAt,
  },
});
const cancelled = (
  atPeriodEnd: boolean,
  requestedAt: string,
  effectiveAt: string,
  reason = 'customer_request',
): SubscriptionEvent => ({
  type: 'SubscriptionCancelled',
  data: { ...ids, reason, atPeriodEnd, requestedAt, effectiveAt },
});
const cancelledAtEnd = cancelled(true, '2025-01-20T09:00:00.000Z', '2025-02-15T10:00:00.000Z');
const cancelledNow = cancelled(false, '2025-01-20T09:00:00.000Z', '2025-01-20T09:00:00.000Z');

const periodEnds = '2025-02-15T10:00:00.000Z';
const day1 = '2025-02-16T10:00:00.000Z';
const day3 = '2025-02-18T10:00:00.000Z';
const day5 = '2025-02-20T10:00:00.000Z';

describe('Subscription', () => {
  describe('CreateSubscription', () => {
    it('starts active, its first period one interval from the start', () => {
      const state = given([])
        .when(create({ createdAt: '2025-01-15T10:00:00Z' }))
        .then([created]);
      expect(state).toMatchObject({
        status: 'active',
        periodIndex: 0,
        anchor: '2025-01-15T10:00:00.000Z',
        cancelAt: null,
      });
    });

    it.each([
      ['2025-01-31T10:00:00.000Z', '2025-02-28T10:00:00.000Z'],
      ['2024-01-31T10:00:00.000Z', '2024-02-29T10:00:00.000Z'],
    ])('clamps a month-end start: %s → %s', (start, periodEnd) => {
      given([])
        .when(create({ start }))
        .then([
          {
            type: 'SubscriptionCreated',
            data: { ...created.data, currentPeriod: { start, end: periodEnd }, createdAt: start },
          },
        ]);
    });

    it('runs a yearly plan for a year, a leap day to Feb 28', () => {
      const start = '2024-02-29T10:00:00.000Z';
      given([])
        .when(create({ planId: 'pro-yearly', interval: 'year', start }))
        .then([
          {
            type: 'SubscriptionCreated',
            data: {
              ...created.data,
              planId: 'pro-yearly',
              interval: 'year',
              currentPeriod: { start, end: '2025-02-28T10:00:00.000Z' },
              createdAt: start,
            },
          },
        ]);
    });

    it('is idempotent', () => {
      given([created]).when(create()).then([]);
    });

    it('refuses the same id with another plan', () => {
      given([created])
        .when(create({ planId: 'basic-monthly' }))
        .thenThrows(AlreadyExistsError, 'subscription_exists');
    });

    it('refuses a price that is not integer minor units', () => {
      given([])
        .when(create({ price: { amount: 19.99, currency: 'EUR' } }))
        .thenThrows(InvalidCommandError, 'invalid_amount');
    });
  });

  describe('RenewSubscription', () => {
    it('enters the next period when the current one ends', () => {
      const state = given([created]).when(renew(1, periodEnds)).then([renewed1]);
      expect(state).toMatchObject({ status: 'active', periodIndex: 1, currentPeriod: renewed1.data.period });
    });

    it('counts periods from the anchor: Jan 31 → Feb 28 → Mar 31', () => {
      const start = '2025-01-31T10:00:00.000Z';
      const firstEnd = '2025-02-28T10:00:00.000Z';
      const createdOn31: SubscriptionEvent = {
        type: 'SubscriptionCreated',
        data: { ...created.data, currentPeriod: { start, end: firstEnd }, createdAt: start },
      };
      given([createdOn31])
        .when(renew(1, firstEnd))
        .then([renewed(1, firstEnd, '2025-03-31T10:00:00.000Z')]);
    });

    it('renews a leap-day yearly subscription to Feb 28 and back to Feb 29 four years on', () => {
      const start = '2024-02-29T10:00:00.000Z';
      const history: SubscriptionEvent[] = [
        {
          type: 'SubscriptionCreated',
          data: {
            ...created.data,
            interval: 'year',
            currentPeriod: { start, end: '2025-02-28T10:00:00.000Z' },
            createdAt: start,
          },
        },
        renewed(1, '2025-02-28T10:00:00.000Z', '2026-02-28T10:00:00.000Z'),
        renewed(2, '2026-02-28T10:00:00.000Z', '2027-02-28T10:00:00.000Z'),
      ];
      given(history)
        .when(renew(3, '2027-02-28T10:00:00.000Z'))
        .then([renewed(3, '2027-02-28T10:00:00.000Z', '2028-02-29T10:00:00.000Z')]);
    });

    it('is idempotent: a period already renewed says nothing new', () => {
      given([created, renewed1]).when(renew(1, periodEnds)).then([]);
    });

    it('refuses to skip a period', () => {
      given([created]).when(renew(2, periodEnds)).thenThrows(InvalidCommandError, 'period_index_gap');
    });

    it('refuses to renew before the period ends', () => {
      given([created]).when(renew(1, '2025-02-15T09:59:59.999Z')).thenThrows(InvalidCommandError, 'renewal_not_due');
    });

    it('refuses a renewal paid at another price', () => {
      given([created])
        .when(renew(1, periodEnds, { amount: 999 }))
        .thenThrows(InvalidCommandError, 'price_mismatch');
      given([created])
        .when(renew(1, periodEnds, { currency: 'USD' }))
        .thenThrows(InvalidCommandError, 'price_mismatch');
    });

    it('never renews once a cancellation was requested, even at period end', () => {
      given([created, cancelledAtEnd])
        .when(renew(1, periodEnds))
        .thenThrows(InvalidTransitionError, 'renewal_after_cancellation');
      given([created, cancelledNow])
        .when(renew(1, periodEnds))
        .thenThrows(InvalidTransitionError, 'renewal_after_cancellation');
    });

    it('refuses an unknown subscription', () => {
      given([]).when(renew(1, periodEnds)).thenThrows(NotFoundError, 'subscription_not_found');
    });

    it('brings a past-due subscription back to active', () => {
      const state = given([created, pastDue(1, periodEnds, day1)])
        .when(renew(1, day1))
        .then([renewed(1, periodEnds, '2025-03-15T10:00:00.000Z', day1)]);
      expect(state).toMatchObject({ status: 'active', dunning: null });
    });
  });

  describe('RecordRenewalFailed', () => {
    it('makes the subscription past due, with the attempt and the next retry', () => {
      const state = given([created])
        .when(renewalFailed(1, periodEnds, day1))
        .then([pastDue(1, periodEnds, day1)]);
      expect(state).toMatchObject({ status: 'past_due', periodIndex: 0, dunning: { attempt: 1, nextRetryAt: day1 } });
    });

    it('records each dunning retry', () => {
      given([created, pastDue(1, periodEnds, day1)])
        .when(renewalFailed(2, day1, day3))
        .then([pastDue(2, day1, day3)]);
    });

    it('cancels for non-payment when dunning is exhausted', () => {
      const state = given([created, pastDue(1, periodEnds, day1), pastDue(2, day1, day3)])
        .when(renewalFailed(3, day5, null))
        .then([pastDue(3, day5, null), cancelled(false, day5, day5, 'payment_failed')]);
      expect(state).toMatchObject({ status: 'cancelled', cancellation: { reason: 'payment_failed' } });
      expect(nextRenewalDue(state)).toBeNull();
    });

    it('is idempotent: an attempt already recorded says nothing new, also after dunning gave up', () => {
      given([created, pastDue(1, periodEnds, day1)])
        .when(renewalFailed(1, periodEnds, day1))
        .then([]);
      given([
        created,
        pastDue(1, periodEnds, day1),
        pastDue(2, day1, null),
        cancelled(false, day1, day1, 'payment_failed'),
      ])
        .when(renewalFailed(2, day1, null))
        .then([]);
    });

    it('ignores a failure for a period already renewed', () => {
      given([created, renewed1])
        .when(renewalFailed(1, periodEnds, day1))
        .then([]);
    });

    it('refuses a failed charge after a cancellation: it should never have been charged', () => {
      given([created, cancelledAtEnd])
        .when(renewalFailed(1, periodEnds, day1))
        .thenThrows(InvalidTransitionError, 'renewal_after_cancellation');
    });

    it('refuses a retry that is not after the failure', () => {
      given([created])
        .when(renewalFailed(1, day1, periodEnds))
        .thenThrows(InvalidCommandError, 'invalid_retry_time');
    });

    it('refuses a failure before the period ends', () => {
      given([created])
        .when(renewalFailed(1, '2025-02-01T00:00:00.000Z', day1))
        .thenThrows(InvalidCommandError, 'renewal_not_due');
    });
  });

  describe('CancelSubscription', () => {
    it('at period end: effective when the period ends, active until then', () => {
      const state = given([created]).when(cancel(true)).then([cancelledAtEnd]);
      expect(state).toMatchObject({ status: 'active', cancelAt: periodEnds });
      expect(scheduledEnd(state)).toBe(periodEnds);
    });

    it('now: effective at once', () => {
      const state = given([created]).when(cancel(false)).then([cancelledNow]);
      expect(state).toMatchObject({ status: 'cancelled', cancelAt: null, endedAt: '2025-01-20T09:00:00.000Z' });
    });

    it('keeps the reason given', () => {
      given([created])
        .when(cancel(false, '2025-01-20T09:00:00.000Z', 'too expensive'))
        .then([cancelled(false, '2025-01-20T09:00:00.000Z', '2025-01-20T09:00:00.000Z', 'too expensive')]);
    });

    it('is idempotent', () => {
      given([created, cancelledAtEnd]).when(cancel(true, '2025-01-21T09:00:00.000Z')).then([]);
      given([created, cancelledNow]).when(cancel(false, '2025-01-21T09:00:00.000Z')).then([]);
      given([created, cancelledNow]).when(cancel(true, '2025-01-21T09:00:00.000Z')).then([]);
    });

    it('brings a period-end cancellation forward to now when asked', () => {
      const state = given([created, cancelledAtEnd])
        .when(cancel(false, '2025-01-25T09:00:00.000Z'))
        .then([cancelled(false, '2025-01-25T09:00:00.000Z', '2025-01-25T09:00:00.000Z')]);
      expect(state.status).toBe('cancelled');
    });

    it('at period end of a past-due subscription: the paid period is over, so it ends now', () => {
      const state = given([created, pastDue(1, periodEnds, day1)])
        .when(cancel(true, day1))
        .then([cancelled(true, day1, day1)]);
      expect(state.status).toBe('cancelled');
    });

    it('at period end after the period ended but before the renewal ran: ends now, never charged', () => {
      const state = given([created])
        .when(cancel(true, day1))
        .then([cancelled(true, day1, day1)]);
      expect(isChargeable(state, day1)).toBe(false);
    });

    it('refuses an unknown subscription', () => {
      given([]).when(cancel(true)).thenThrows(NotFoundError, 'subscription_not_found');
    });
  });

  describe('EndSubscription', () => {
    it('ends a subscription cancelled at period end when the period ends', () => {
      const state = given([created, cancelledAtEnd])
        .when(end('2025-02-15T10:00:05.000Z'))
        .then([{ type: 'SubscriptionEnded', data: { ...ids, reason: 'customer_request', endedAt: periodEnds } }]);
      expect(state).toMatchObject({ status: 'ended', endedAt: periodEnds, cancelAt: null });
      expect(scheduledEnd(state)).toBeNull();
    });

    it('refuses to end before the period ends', () => {
      given([created, cancelledAtEnd])
        .when(end('2025-02-15T09:00:00.000Z'))
        .thenThrows(InvalidCommandError, 'end_not_due');
    });

    it('refuses to end a subscription that was not cancelled', () => {
      given([created]).when(end(periodEnds)).thenThrows(InvalidTransitionError, 'not_cancelled');
    });

    it('is idempotent, and says nothing for a subscription cancelled now', () => {
      given([
        created,
        cancelledAtEnd,
        { type: 'SubscriptionEnded', data: { ...ids, reason: 'customer_request', endedAt: periodEnds } },
      ])
        .when(end(day1))
        .then([]);
      given([created, cancelledNow]).when(end(day1)).then([]);
    });
  });

  it('refuses a command for another subscription', () => {
    given([created])
      .when({
        type: 'CancelSubscription',
        data: { subscriptionId: '01890a5d-ac96-774b-bcce-b302099a8000', atPeriodEnd: false, requestedAt: day1 },
      })
      .thenThrows(InvalidCommandError, 'wrong_subscription');
  });
});

describe('renewal schedule', () => {
  const state = (...events: SubscriptionEvent[]): Subscription => fold(subscriptionDecider, events);

  it('is due when the current period ends, for the next period', () => {
    expect(nextRenewalDue(state(created))).toEqual({
      periodIndex: 1,
      attempt: 1,
      dueAt: periodEnds,
      amount: 1999,
      currency: 'EUR',
    });
    expect(nextRenewalDue(state(created, renewed1))).toMatchObject({
      periodIndex: 2,
      attempt: 1,
      dueAt: '2025-03-15T10:00:00.000Z',
    });
  });

  it('is due at the dunning retry when past due', () => {
    expect(nextRenewalDue(state(created, pastDue(1, periodEnds, day1)))).toMatchObject({
      periodIndex: 1,
      attempt: 2,
      dueAt: day1,
    });
  });

  it('is never due again once a cancellation was requested', () => {
    expect(nextRenewalDue(state(created, cancelledAtEnd))).toBeNull();
    expect(nextRenewalDue(state(created, cancelledNow))).toBeNull();
    expect(nextRenewalDue(state())).toBeNull();
  });

  it('is chargeable from the due time on', () => {
    expect(isChargeable(state(created), '2025-02-15T09:59:59.999Z')).toBe(false);
    expect(isChargeable(state(created), periodEnds)).toBe(true);
    expect(isChargeable(state(created), new Date(day5))).toBe(true);
    expect(isChargeable(state(created, pastDue(1, periodEnds, day1)), periodEnds)).toBe(false);
    expect(isChargeable(state(created, pastDue(1, periodEnds, day1)), day1)).toBe(true);
    expect(isChargeable(state(created, cancelledAtEnd), day5)).toBe(false);
    expect(isChargeable(state(), day5)).toBe(false);
  });

  it('runs a year of monthly renewals from Jan 31 through the decider, every period contiguous', () => {
    let events: SubscriptionEvent[] = [
      {
        type: 'SubscriptionCreated',
        data: {
          ...created.data,
          currentPeriod: { start: '2024-01-31T10:00:00.000Z', end: '2024-02-29T10:00:00.000Z' },
          createdAt: '2024-01-31T10:00:00.000Z',
        },
      },
    ];
    for (let month = 0; month < 12; month++) {
      const current = state(...events);
      const due = nextRenewalDue(current)!;
      events = [...events, ...subscriptionDecider.decide(renew(due.periodIndex, due.dueAt), current)];
    }
    const final = state(...events);
    expect(final).toMatchObject({
      periodIndex: 12,
      currentPeriod: { start: '2025-01-31T10:00:00.000Z', end: '2025-02-28T10:00:00.000Z' },
    });
    const starts = events.filter((e) => e.type === 'SubscriptionRenewed').map((e) => e.data.period.start.slice(0, 10));
    expect(starts).toEqual([
      '2024-02-29',
      '2024-03-31',
      '2024-04-30',
      '2024-05-31',
      '2024-06-30',
      '2024-07-31',
      '2024-08-31',
      '2024-09-30',
      '2024-10-31',
      '2024-11-30',
      '2024-12-31',
      '2025-01-31',
    ]);
  });
});
