import type { Message } from '../decider.ts';

/** Every id the saga will use is chosen up front, so a retried or resumed step never creates a second one. */
export type StartRegistration = Message<
  'StartRegistration',
  {
    registrationId: string;
    customerId: string;
    paymentId: string;
    subscriptionId: string;
    planId: string;
    startedAt: string;
  }
>;

export type RecordCustomerCreated = Message<'RecordCustomerCreated', { registrationId: string; createdAt: string }>;

export type RecordPaymentCharged = Message<'RecordPaymentCharged', { registrationId: string; chargedAt: string }>;

/** The gateway declined the first charge: the saga compensates (and the answer is 402). */
export type RecordPaymentDeclined = Message<
  'RecordPaymentDeclined',
  { registrationId: string; declineCode: string; message: string; declinedAt: string }
>;

export type RecordSubscriptionCreated = Message<
  'RecordSubscriptionCreated',
  { registrationId: string; createdAt: string }
>;

/** The customer is registered (CustomerRegistered is out): the saga is done. */
export type CompleteRegistration = Message<'CompleteRegistration', { registrationId: string; completedAt: string }>;

/** The step in flight failed for good (retries exhausted, timed out...): undo what may have been done. */
export type CompensateRegistration = Message<
  'CompensateRegistration',
  { registrationId: string; error: string; failedAt: string }
>;

export type RecordCompensated = Message<'RecordCompensated', { registrationId: string; compensatedAt: string }>;

/** Compensating kept failing: park the registration for an operator. */
export type RecordCompensationFailed = Message<
  'RecordCompensationFailed',
  { registrationId: string; error: string; failedAt: string }
>;

export type RegistrationCommand =
  | StartRegistration
  | RecordCustomerCreated
  | RecordPaymentCharged
  | RecordPaymentDeclined
  | RecordSubscriptionCreated
  | CompleteRegistration
  | CompensateRegistration
  | RecordCompensated
  | RecordCompensationFailed;
