import { describe, expect, it } from 'vitest';
import { EventCatalog } from '../kernel/catalog/catalog.ts';
import { customerDecider } from './customer/decider.ts';
import type { Decider, Message } from './decider.ts';
import { seedEvents } from './events/index.ts';
import { paymentDecider } from './payment/decider.ts';
import { registrationDecider } from './registration/decider.ts';
import { subscriptionDecider } from './subscription/decider.ts';
import { workflowDecider } from './workflow/decider.ts';

const catalog = new EventCatalog(seedEvents);

/** Runs commands one after the other, as a service would: decide on the state so far, then evolve. */
const run = <Command, State, Event>(decider: Decider<Command, State, Event>, commands: Command[]): Event[] => {
  let state = decider.initialState;
  const events: Event[] = [];
  for (const command of commands) {
    const produced = decider.decide(command, state);
    state = produced.reduce(decider.evolve, state);
    events.push(...produced);
  }
  return events;
};

const uuid = (n: number) => `01890a5d-ac96-774b-bcce-b3020${String(n).padStart(7, '0')}`;
const [customerId, paymentId, subscriptionId, registrationId] = [uuid(1), uuid(2), uuid(3), uuid(4)];
const t = (day: number, hour = 10) => new Date(Date.UTC(2024, 0, 31 + day, hour)).toISOString();

const produced: Message[] = [
  ...run(customerDecider, [
    {
      type: 'CreateCustomer',
      data: {
        customerId,
        pii: { alg: 'A256GCM', iv: 'aXYxMjM0NTY3ODkw', ciphertext: 'Y2lwaGVydGV4dA', tag: 'dGFnMTIzNDU2Nzg5MDEy' },
        planId: 'pro-monthly',
        createdAt: t(0),
      },
    },
    { type: 'RegisterCustomer', data: { customerId, registeredAt: t(0, 11) } },
    { type: 'DeleteCustomer', data: { customerId, reason: 'erasure', deletedAt: t(400) } },
  ]),
  ...run(paymentDecider, [
    {
      type: 'RecordPaymentFailed',
      data: {
        paymentId,
        customerId,
        subscriptionId,
        amount: 1999,
        currency: 'EUR',
        purpose: 'renewal',
        declineCode: 'expired_card',
        message: 'Your card has expired.',
        attempt: 1,
        failedAt: t(29),
      },
    },
    {
      type: 'RecordPaymentSucceeded',
      data: {
        paymentId,
        customerId,
        subscriptionId,
        amount: 1999,
        currency: 'EUR',
        purpose: 'renewal',
        periodIndex: 1,
        paymentMethod: { brand: 'mastercard', last4: '4444', tokenId: 'pm_card_mastercard' },
        gatewayReference: 'sim_ch_9',
        processedAt: t(30),
        taxRateBps: 2000,
      },
    },
    {
      type: 'RefundPayment',
      data: { paymentId, amount: 500, reason: 'goodwill', gatewayReference: 'sim_re_9', refundedAt: t(31) },
    },
  ]),
  ...run(subscriptionDecider, [
    {
      type: 'CreateSubscription',
      data: {
        subscriptionId,
        customerId,
        planId: 'pro-monthly',
        price: { amount: 1999, currency: 'EUR' },
        interval: 'month',
        start: t(0),
      },
    },
    {
      type: 'RenewSubscription',
      data: { subscriptionId, periodIndex: 1, paymentId, amount: 1999, currency: 'EUR', renewedAt: t(29) },
    },
    {
      type: 'RecordRenewalFailed',
      data: {
        subscriptionId,
        periodIndex: 2,
        paymentId: uuid(5),
        attempt: 1,
        declineCode: 'insufficient_funds',
        failedAt: t(60),
        nextRetryAt: t(61),
      },
    },
    {
      type: 'RenewSubscription',
      data: { subscriptionId, periodIndex: 2, paymentId: uuid(6), amount: 1999, currency: 'EUR', renewedAt: t(61) },
    },
    { type: 'CancelSubscription', data: { subscriptionId, atPeriodEnd: true, requestedAt: t(70) } },
    { type: 'EndSubscription', data: { subscriptionId, endedAt: t(91) } },
  ]),
  ...run(subscriptionDecider, [
    {
      type: 'CreateSubscription',
      data: {
        subscriptionId,
        customerId,
        planId: 'pro-yearly',
        price: { amount: 19900, currency: 'USD' },
        interval: 'year',
        start: t(0),
      },
    },
    {
      type: 'RecordRenewalFailed',
      data: {
        subscriptionId,
        periodIndex: 1,
        paymentId: uuid(7),
        attempt: 1,
        declineCode: 'generic_decline',
        failedAt: t(366),
        nextRetryAt: null,
      },
    },
  ]),
  ...run(registrationDecider, [
    {
      type: 'StartRegistration',
      data: { registrationId, customerId, paymentId, subscriptionId, planId: 'pro-monthly', startedAt: t(0) },
    },
    { type: 'RecordCustomerCreated', data: { registrationId, createdAt: t(0) } },
    { type: 'RecordPaymentCharged', data: { registrationId, chargedAt: t(0) } },
    { type: 'RecordSubscriptionCreated', data: { registrationId, createdAt: t(0) } },
    { type: 'CompleteRegistration', data: { registrationId, completedAt: t(0) } },
  ]),
  ...run(registrationDecider, [
    {
      type: 'StartRegistration',
      data: { registrationId, customerId, paymentId, subscriptionId, planId: 'pro-monthly', startedAt: t(0) },
    },
    { type: 'RecordCustomerCreated', data: { registrationId, createdAt: t(0) } },
    {
      type: 'RecordPaymentDeclined',
      data: { registrationId, declineCode: 'generic_decline', message: 'Your card was declined.', declinedAt: t(0) },
    },
    { type: 'RecordCompensationFailed', data: { registrationId, error: 'store unavailable', failedAt: t(1) } },
    { type: 'RecordCompensated', data: { registrationId, compensatedAt: t(2) } },
  ]),
  ...run(workflowDecider, [
    {
      type: 'RetryWorkflow',
      data: {
        workflowId: registrationId,
        workflowType: 'registration',
        customerId,
        status: 'compensation_failed',
        retriedAt: t(3),
      },
    },
  ]),
];

describe('every decider', () => {
  it('produces only events that pass their catalog schema, and every catalog event comes from one of them', () => {
    for (const event of produced) expect(() => catalog.validate(event.type, event.data), event.type).not.toThrow();
    expect(new Set(produced.map((event) => event.type))).toEqual(
      new Set(seedEvents.map((definition) => definition.type)),
    );
  });
});
