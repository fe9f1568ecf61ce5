import { describe, expect, it } from 'vitest';
import { deciderSpec } from '../../../test/support/decider-spec.ts';
import { EventCatalog } from '../../kernel/catalog/catalog.ts';
import { AlreadyExistsError, InvalidCommandError, InvalidTransitionError, NotFoundError } from '../errors.ts';
import type { RegistrationCompensation, RegistrationStep } from '../events/common.ts';
import { seedEvents } from '../events/index.ts';
import type { RegistrationCommand } from './commands.ts';
import { registrationDecider } from './decider.ts';
import type { RegistrationEvent } from './events.ts';

const catalog = new EventCatalog(seedEvents);
const { given } = deciderSpec(registrationDecider, { validate: (event) => catalog.validate(event.type, event.data) });

const registrationId = '01890a5d-ac96-774b-bcce-b302099a8000';
const customerId = '01890a5d-ac96-774b-bcce-b302099a8057';
const subscriptionId = '01890a5d-ac96-774b-bcce-b302099a8058';
const paymentId = '01890a5d-ac96-774b-bcce-b302099a8059';
const at = (second: number) => `2025-01-15T10:00:${String(second).padStart(2, '0')}.000Z`;
const ids = { registrationId, customerId };

const command = {
  start: (planId = 'pro-monthly'): RegistrationCommand => ({
    type: 'StartRegistration',
    data: { registrationId, customerId, paymentId, subscriptionId, planId, startedAt: at(0) },
  }),
  customerCreated: { type: 'RecordCustomerCreated', data: { registrationId, createdAt: at(1) } } as RegistrationCommand,
  paymentCharged: { type: 'RecordPaymentCharged', data: { registrationId, chargedAt: at(2) } } as RegistrationCommand,
  paymentDeclined: {
    type: 'RecordPaymentDeclined',
    data: {
      registrationId,
      declineCode: 'insufficient_funds',
      message: 'Your card has insufficient funds.',
      declinedAt: at(2),
    },
  } as RegistrationCommand,
  subscriptionCreated: {
    type: 'RecordSubscriptionCreated',
    data: { registrationId, createdAt: at(3) },
  } as RegistrationCommand,
  complete: { type: 'CompleteRegistration', data: { registrationId, completedAt: at(4) } } as RegistrationCommand,
  compensate: (error = 'gateway timed out'): RegistrationCommand => ({
    type: 'CompensateRegistration',
    data: { registrationId, error, failedAt: at(5) },
  }),
  compensated: { type: 'RecordCompensated', data: { registrationId, compensatedAt: at(6) } } as RegistrationCommand,
  compensationFailed: {
    type: 'RecordCompensationFailed',
    data: { registrationId, error: 'gateway down', failedAt: at(7) },
  } as RegistrationCommand,
};

const started: RegistrationEvent = {
  type: 'RegistrationStarted',
  data: { ...ids, paymentId, subscriptionId, planId: 'pro-monthly', startedAt: at(0) },
};
const customerCreated: RegistrationEvent = { type: 'RegistrationCustomerCreated', data: { ...ids, createdAt: at(1) } };
const paymentCharged: RegistrationEvent = {
  type: 'RegistrationPaymentCharged',
  data: { ...ids, paymentId, chargedAt: at(2) },
};
const paymentDeclined: RegistrationEvent = {
  type: 'RegistrationPaymentDeclined',
  data: {
    ...ids,
    paymentId,
    declineCode: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
    declinedAt: at(2),
  },
};
const subscriptionCreated: RegistrationEvent = {
  type: 'RegistrationSubscriptionCreated',
  data: { ...ids, subscriptionId, createdAt: at(3) },
};
const completed: RegistrationEvent = { type: 'RegistrationCompleted', data: { ...ids, completedAt: at(4) } };
const compensating = (
  failedStep: RegistrationStep,
  compensations: RegistrationCompensation[],
  error = 'gateway timed out',
): RegistrationEvent => ({
  type: 'RegistrationCompensating',
  data: { ...ids, reason: 'step_failed', failedStep, error, compensations, failedAt: at(5) },
});
const declinedCompensating: RegistrationEvent = {
  type: 'RegistrationCompensating',
  data: {
    ...ids,
    reason: 'payment_declined',
    failedStep: 'charge_payment',
    error: 'insufficient_funds: Your card has insufficient funds.',
    compensations: ['delete_customer'],
    failedAt: at(2),
  },
};
const compensated: RegistrationEvent = { type: 'RegistrationCompensated', data: { ...ids, compensatedAt: at(6) } };
const compensationFailed: RegistrationEvent = {
  type: 'RegistrationCompensationFailed',
  data: { ...ids, error: 'gateway down', failedAt: at(7) },
};

describe('Registration', () => {
  describe('forward', () => {
    it('starts with every id fixed, the customer step next', () => {
      const state = given([]).when(command.start()).then([started]);
      expect(state).toMatchObject({
        status: 'running',
        next: 'create_customer',
        customerId,
        paymentId,
        subscriptionId,
        done: [],
      });
    });

    it('runs its steps in order, each state telling the next', () => {
      expect(given([started]).when(command.customerCreated).then([customerCreated])).toMatchObject({
        next: 'charge_payment',
      });
      expect(given([started, customerCreated]).when(command.paymentCharged).then([paymentCharged])).toMatchObject({
        next: 'create_subscription',
      });
      expect(
        given([started, customerCreated, paymentCharged]).when(command.subscriptionCreated).then([subscriptionCreated]),
      ).toMatchObject({
        next: 'complete',
      });
      expect(
        given([started, customerCreated, paymentCharged, subscriptionCreated]).when(command.complete).then([completed]),
      ).toMatchObject({
        status: 'completed',
        next: null,
        done: ['create_customer', 'charge_payment', 'create_subscription', 'complete'],
        finishedAt: at(4),
      });
    });

    it('is idempotent: a start or a step already recorded says nothing new', () => {
      given([started]).when(command.start()).then([]);
      given([started, customerCreated]).when(command.customerCreated).then([]);
      given([started, customerCreated, paymentCharged]).when(command.paymentCharged).then([]);
      given([started, customerCreated, paymentCharged, subscriptionCreated]).when(command.subscriptionCreated).then([]);
      given([started, customerCreated, paymentCharged, subscriptionCreated, completed]).when(command.complete).then([]);
    });

    it('refuses a start with other data under the same id', () => {
      given([started]).when(command.start('pro-yearly')).thenThrows(AlreadyExistsError, 'registration_exists');
    });

    it('refuses a step out of order', () => {
      given([started]).when(command.paymentCharged).thenThrows(InvalidTransitionError, 'step_out_of_order');
      given([started, customerCreated]).when(command.complete).thenThrows(InvalidTransitionError, 'step_out_of_order');
    });

    it('refuses a forward step while compensating', () => {
      given([
        started,
        customerCreated,
        paymentCharged,
        compensating('create_subscription', ['refund_payment', 'delete_customer']),
      ])
        .when(command.subscriptionCreated)
        .thenThrows(InvalidTransitionError, 'registration_compensating');
    });

    it('refuses an unknown registration', () => {
      given([]).when(command.customerCreated).thenThrows(NotFoundError, 'registration_not_found');
    });

    it('refuses a command for another registration', () => {
      given([started])
        .when({ type: 'RecordCustomerCreated', data: { registrationId: customerId, createdAt: at(1) } })
        .thenThrows(InvalidCommandError, 'wrong_registration');
    });
  });

  describe('a declined payment', () => {
    it('compensates by deleting the customer, keeping the decline for the 402', () => {
      const state = given([started, customerCreated])
        .when(command.paymentDeclined)
        .then([paymentDeclined, declinedCompensating]);
      expect(state).toMatchObject({
        status: 'compensating',
        next: 'compensate',
        compensations: ['delete_customer'],
        decline: { declineCode: 'insufficient_funds' },
        failure: { reason: 'payment_declined', failedStep: 'charge_payment' },
      });
    });

    it('is idempotent', () => {
      given([started, customerCreated, paymentDeclined, declinedCompensating]).when(command.paymentDeclined).then([]);
    });

    it('refuses a decline before the payment step', () => {
      given([started]).when(command.paymentDeclined).thenThrows(InvalidTransitionError, 'step_out_of_order');
    });

    it('refuses a decline after the charge', () => {
      given([started, customerCreated, paymentCharged])
        .when(command.paymentDeclined)
        .thenThrows(InvalidTransitionError, 'step_out_of_order');
    });
  });

  describe('a failed step', () => {
    it('after the charge (subscription step): refunds the payment, then deletes the customer', () => {
      const state = given([started, customerCreated, paymentCharged])
        .when(command.compensate())
        .then([compensating('create_subscription', ['refund_payment', 'delete_customer'])]);
      expect(state).toMatchObject({ status: 'compensating', next: 'compensate' });
    });

    it('during the charge (its answer lost): refunds whatever was charged, then deletes the customer', () => {
      given([started, customerCreated])
        .when(command.compensate())
        .then([compensating('charge_payment', ['refund_payment', 'delete_customer'])]);
    });

    it('during the customer step: deletes the customer if it was created', () => {
      given([started])
        .when(command.compensate())
        .then([compensating('create_customer', ['delete_customer'])]);
    });

    it('is idempotent', () => {
      given([started, customerCreated, compensating('charge_payment', ['refund_payment', 'delete_customer'])])
        .when(command.compensate())
        .then([]);
      given([started, customerCreated, paymentDeclined, declinedCompensating, compensated])
        .when(command.compensate())
        .then([]);
    });

    it('in the last step: cancels the subscription too, before the refund and the deletion', () => {
      given([started, customerCreated, paymentCharged, subscriptionCreated])
        .when(command.compensate())
        .then([compensating('complete', ['cancel_subscription', 'refund_payment', 'delete_customer'])]);
    });

    it('refuses to compensate a completed registration', () => {
      given([started, customerCreated, paymentCharged, subscriptionCreated, completed])
        .when(command.compensate())
        .thenThrows(InvalidTransitionError, 'registration_completed');
    });

    it('keeps a long error within what the event allows', () => {
      const long = 'x'.repeat(5000);
      given([started])
        .when(command.compensate(long))
        .then([compensating('create_customer', ['delete_customer'], 'x'.repeat(1000))]);
    });
  });

  describe('compensation', () => {
    const compensatingAfterDecline = [started, customerCreated, paymentDeclined, declinedCompensating];

    it('ends compensated', () => {
      const state = given(compensatingAfterDecline).when(command.compensated).then([compensated]);
      expect(state).toMatchObject({ status: 'compensated', next: null, finishedAt: at(6) });
    });

    it('is parked when it keeps failing, never dropped', () => {
      const state = given(compensatingAfterDecline).when(command.compensationFailed).then([compensationFailed]);
      expect(state).toMatchObject({ status: 'compensation_failed', next: null, compensationError: 'gateway down' });
    });

    it('can still end compensated after being parked', () => {
      given([...compensatingAfterDecline, compensationFailed])
        .when(command.compensated)
        .then([compensated]);
    });

    it('is idempotent', () => {
      given([...compensatingAfterDecline, compensated])
        .when(command.compensated)
        .then([]);
      given([...compensatingAfterDecline, compensationFailed])
        .when(command.compensationFailed)
        .then([]);
    });

    it('refuses an outcome for a registration that is not compensating', () => {
      given([started, customerCreated])
        .when(command.compensated)
        .thenThrows(InvalidTransitionError, 'registration_running');
      given([...compensatingAfterDecline, compensated])
        .when(command.compensationFailed)
        .thenThrows(InvalidTransitionError, 'registration_compensated');
      given([]).when(command.compensated).thenThrows(NotFoundError, 'registration_not_found');
    });
  });
});
