import type { Decider } from '../decider.ts';
import { AlreadyExistsError, InvalidCommandError, InvalidTransitionError, NotFoundError } from '../errors.ts';
import { registrationStep, type RegistrationCompensation, type RegistrationStep } from '../events/common.ts';
import { instant } from '../time.ts';
import type {
  CompensateRegistration,
  RecordPaymentDeclined,
  RegistrationCommand,
  StartRegistration,
} from './commands.ts';
import type { RegistrationEvent } from './events.ts';

export type RegistrationStatus = 'running' | 'completed' | 'compensating' | 'compensated' | 'compensation_failed';

/** What the saga does next: a forward step, compensate, or nothing (finished, or parked for an operator). */
export type NextAction = RegistrationStep | 'compensate' | null;

export interface ExistingRegistration {
  status: RegistrationStatus;
  registrationId: string;
  customerId: string;
  paymentId: string;
  subscriptionId: string;
  planId: string;
  startedAt: string;
  next: NextAction;
  /** Forward steps done, in order. */
  done: RegistrationStep[];
  decline: { declineCode: string; message: string } | null;
  failure: {
    reason: 'payment_declined' | 'step_failed';
    failedStep: RegistrationStep;
    error: string;
    failedAt: string;
  } | null;
  /** What compensation undoes, in order. */
  compensations: RegistrationCompensation[];
  compensationError: string | null;
  finishedAt: string | null;
}

export type Registration = { status: 'none' } | ExistingRegistration;

export const initialState: Registration = { status: 'none' };

export const registrationSteps: readonly RegistrationStep[] = registrationStep.options;

const stepAfter = (step: RegistrationStep): RegistrationStep | null =>
  registrationSteps[registrationSteps.indexOf(step) + 1] ?? null;

/** Error texts come from anywhere (a gateway, a driver): keep them within what the event allows. */
const errorText = (error: string): string => (error.trim() === '' ? 'unknown error' : error.slice(0, 1000));

const notFound = (registrationId: string) =>
  new NotFoundError('registration', 'registration_not_found', `registration ${registrationId} does not exist`);

const notRunning = (state: ExistingRegistration) =>
  new InvalidTransitionError(
    'registration',
    `registration_${state.status}`,
    `registration ${state.registrationId} is ${state.status}`,
  );

const start = ({ data }: StartRegistration, state: Registration): RegistrationEvent[] => {
  const { registrationId, customerId, paymentId, subscriptionId, planId } = data;
  if (state.status !== 'none') {
    const same =
      state.customerId === customerId &&
      state.paymentId === paymentId &&
      state.subscriptionId === subscriptionId &&
      state.planId === planId;
    if (same) return [];
    throw new AlreadyExistsError(
      'registration',
      'registration_exists',
      `registration ${registrationId} already started with other data`,
    );
  }
  return [
    {
      type: 'RegistrationStarted',
      data: {
        registrationId,
        customerId,
        paymentId,
        subscriptionId,
        planId,
        startedAt: instant('registration', 'startedAt', data.startedAt),
      },
    },
  ];
};

/** The outcome of forward step `step`, recorded once and only in order. */
const stepDone = (
  step: RegistrationStep,
  state: Registration,
  registrationId: string,
  event: (s: ExistingRegistration) => RegistrationEvent,
): RegistrationEvent[] => {
  if (state.status === 'none') throw notFound(registrationId);
  if (state.done.includes(step)) return [];
  if (state.status !== 'running') throw notRunning(state);
  if (state.next !== step) {
    throw new InvalidTransitionError(
      'registration',
      'step_out_of_order',
      `registration ${registrationId}: ${step} recorded while ${state.next} is next`,
    );
  }
  return [event(state)];
};

const declined = ({ data }: RecordPaymentDeclined, state: Registration): RegistrationEvent[] => {
  if (state.status === 'none') throw notFound(data.registrationId);
  if (state.decline !== null) return [];
  if (state.status !== 'running') throw notRunning(state);
  if (state.next !== 'charge_payment') {
    throw new InvalidTransitionError(
      'registration',
      'step_out_of_order',
      `registration ${data.registrationId}: a decline recorded while ${state.next} is next`,
    );
  }
  const { registrationId, customerId, paymentId } = state;
  const { declineCode, message } = data;
  const declinedAt = instant('registration', 'declinedAt', data.declinedAt);
  return [
    {
      type: 'RegistrationPaymentDeclined',
      data: { registrationId, customerId, paymentId, declineCode, message, declinedAt },
    },
    {
      type: 'RegistrationCompensating',
      data: {
        registrationId,
        customerId,
        reason: 'payment_declined',
        failedStep: 'charge_payment',
        error: errorText(`${declineCode}: ${message}`),
        compensations: ['delete_customer'],
        failedAt: declinedAt,
      },
    },
  ];
};

/**
 * Undo what may have been done, last first. The step in flight may have taken effect (a charge
 * whose answer timed out), so it is undone too; every compensation is a no-op when there is
 * nothing to undo.
 */
const compensations: Record<RegistrationStep, RegistrationCompensation[]> = {
  create_customer: ['delete_customer'],
  charge_payment: ['refund_payment', 'delete_customer'],
  create_subscription: ['refund_payment', 'delete_customer'],
  complete: ['cancel_subscription', 'refund_payment', 'delete_customer'],
};

const compensate = ({ data }: CompensateRegistration, state: Registration): RegistrationEvent[] => {
  if (state.status === 'none') throw notFound(data.registrationId);
  if (state.status === 'compensating' || state.status === 'compensated' || state.status === 'compensation_failed')
    return [];
  if (state.status === 'completed') throw notRunning(state);
  const failedStep = state.next as RegistrationStep;
  const { registrationId, customerId } = state;
  return [
    {
      type: 'RegistrationCompensating',
      data: {
        registrationId,
        customerId,
        reason: 'step_failed',
        failedStep,
        error: errorText(data.error),
        compensations: compensations[failedStep],
        failedAt: instant('registration', 'failedAt', data.failedAt),
      },
    },
  ];
};

export const decide = (command: RegistrationCommand, state: Registration): RegistrationEvent[] => {
  const { registrationId } = command.data;
  if (state.status !== 'none' && state.registrationId !== registrationId) {
    throw new InvalidCommandError(
      'registration',
      'wrong_registration',
      `command for registration ${registrationId} sent to registration ${state.registrationId}`,
    );
  }
  switch (command.type) {
    case 'StartRegistration':
      return start(command, state);
    case 'RecordCustomerCreated':
      return stepDone('create_customer', state, registrationId, ({ customerId }) => ({
        type: 'RegistrationCustomerCreated',
        data: { registrationId, customerId, createdAt: instant('registration', 'createdAt', command.data.createdAt) },
      }));
    case 'RecordPaymentCharged':
      return stepDone('charge_payment', state, registrationId, ({ customerId, paymentId }) => ({
        type: 'RegistrationPaymentCharged',
        data: {
          registrationId,
          customerId,
          paymentId,
          chargedAt: instant('registration', 'chargedAt', command.data.chargedAt),
        },
      }));
    case 'RecordPaymentDeclined':
      return declined(command, state);
    case 'RecordSubscriptionCreated':
      return stepDone('create_subscription', state, registrationId, ({ customerId, subscriptionId }) => ({
        type: 'RegistrationSubscriptionCreated',
        data: {
          registrationId,
          customerId,
          subscriptionId,
          createdAt: instant('registration', 'createdAt', command.data.createdAt),
        },
      }));
    case 'CompleteRegistration':
      return stepDone('complete', state, registrationId, ({ customerId }) => ({
        type: 'RegistrationCompleted',
        data: {
          registrationId,
          customerId,
          completedAt: instant('registration', 'completedAt', command.data.completedAt),
        },
      }));
    case 'CompensateRegistration':
      return compensate(command, state);
    case 'RecordCompensated':
      if (state.status === 'none') throw notFound(registrationId);
      if (state.status === 'compensated') return [];
      if (state.status !== 'compensating' && state.status !== 'compensation_failed') throw notRunning(state);
      return [
        {
          type: 'RegistrationCompensated',
          data: {
            registrationId,
            customerId: state.customerId,
            compensatedAt: instant('registration', 'compensatedAt', command.data.compensatedAt),
          },
        },
      ];
    case 'RecordCompensationFailed':
      if (state.status === 'none') throw notFound(registrationId);
      if (state.status === 'compensation_failed') return [];
      if (state.status !== 'compensating') throw notRunning(state);
      return [
        {
          type: 'RegistrationCompensationFailed',
          data: {
            registrationId,
            customerId: state.customerId,
            error: errorText(command.data.error),
            failedAt: instant('registration', 'failedAt', command.data.failedAt),
          },
        },
      ];
  }
};

const advance = (state: Registration, step: RegistrationStep): Registration =>
  state.status === 'none' ? state : { ...state, done: [...state.done, step], next: stepAfter(step) };

export const evolve = (state: Registration, event: RegistrationEvent): Registration => {
  switch (event.type) {
    case 'RegistrationStarted': {
      const { registrationId, customerId, paymentId, subscriptionId, planId, startedAt } = event.data;
      return {
        status: 'running',
        registrationId,
        customerId,
        paymentId,
        subscriptionId,
        planId,
        startedAt,
        next: 'create_customer',
        done: [],
        decline: null,
        failure: null,
        compensations: [],
        compensationError: null,
        finishedAt: null,
      };
    }
    case 'RegistrationCustomerCreated':
      return advance(state, 'create_customer');
    case 'RegistrationPaymentCharged':
      return advance(state, 'charge_payment');
    case 'RegistrationSubscriptionCreated':
      return advance(state, 'create_subscription');
    case 'RegistrationCompleted': {
      const next = advance(state, 'complete');
      return next.status === 'none'
        ? next
        : { ...next, status: 'completed', next: null, finishedAt: event.data.completedAt };
    }
    case 'RegistrationPaymentDeclined':
      return state.status === 'none'
        ? state
        : { ...state, decline: { declineCode: event.data.declineCode, message: event.data.message } };
    case 'RegistrationCompensating': {
      if (state.status === 'none') return state;
      const { reason, failedStep, error, failedAt, compensations } = event.data;
      return {
        ...state,
        status: 'compensating',
        next: 'compensate',
        failure: { reason, failedStep, error, failedAt },
        compensations,
      };
    }
    case 'RegistrationCompensated':
      return state.status === 'none'
        ? state
        : {
            ...state,
            status: 'compensated',
            next: null,
            compensationError: null,
            finishedAt: event.data.compensatedAt,
          };
    case 'RegistrationCompensationFailed':
      return state.status === 'none'
        ? state
        : { ...state, status: 'compensation_failed', next: null, compensationError: event.data.error };
  }
};

export const registrationDecider: Decider<RegistrationCommand, Registration, RegistrationEvent> = {
  decide,
  evolve,
  initialState,
};
