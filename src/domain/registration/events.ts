import type { Message } from '../decider.ts';
import type { RegistrationCompensatedData } from '../events/registration-compensated.ts';
import type { RegistrationCompensatingData } from '../events/registration-compensating.ts';
import type { RegistrationCompensationFailedData } from '../events/registration-compensation-failed.ts';
import type { RegistrationCompletedData } from '../events/registration-completed.ts';
import type { RegistrationCustomerCreatedData } from '../events/registration-customer-created.ts';
import type { RegistrationPaymentChargedData } from '../events/registration-payment-charged.ts';
import type { RegistrationPaymentDeclinedData } from '../events/registration-payment-declined.ts';
import type { RegistrationStartedData } from '../events/registration-started.ts';
import type { RegistrationSubscriptionCreatedData } from '../events/registration-subscription-created.ts';

export type RegistrationEvent =
  | Message<'RegistrationStarted', RegistrationStartedData>
  | Message<'RegistrationCustomerCreated', RegistrationCustomerCreatedData>
  | Message<'RegistrationPaymentCharged', RegistrationPaymentChargedData>
  | Message<'RegistrationPaymentDeclined', RegistrationPaymentDeclinedData>
  | Message<'RegistrationSubscriptionCreated', RegistrationSubscriptionCreatedData>
  | Message<'RegistrationCompleted', RegistrationCompletedData>
  | Message<'RegistrationCompensating', RegistrationCompensatingData>
  | Message<'RegistrationCompensated', RegistrationCompensatedData>
  | Message<'RegistrationCompensationFailed', RegistrationCompensationFailedData>;
