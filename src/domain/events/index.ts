import type { EventDefinition } from '../../kernel/catalog/define-event.ts';
import { CustomerCreated } from './customer-created.ts';
import { CustomerDeleted } from './customer-deleted.ts';
import { CustomerRegistered } from './customer-registered.ts';
import { PaymentFailed } from './payment-failed.ts';
import { PaymentProcessed } from './payment-processed.ts';
import { PaymentRefunded } from './payment-refunded.ts';
import { RegistrationCompensated } from './registration-compensated.ts';
import { RegistrationCompensating } from './registration-compensating.ts';
import { RegistrationCompensationFailed } from './registration-compensation-failed.ts';
import { RegistrationCompleted } from './registration-completed.ts';
import { RegistrationCustomerCreated } from './registration-customer-created.ts';
import { RegistrationPaymentCharged } from './registration-payment-charged.ts';
import { RegistrationPaymentDeclined } from './registration-payment-declined.ts';
import { RegistrationStarted } from './registration-started.ts';
import { RegistrationSubscriptionCreated } from './registration-subscription-created.ts';
import { SubscriptionCancelled } from './subscription-cancelled.ts';
import { SubscriptionCreated } from './subscription-created.ts';
import { SubscriptionEnded } from './subscription-ended.ts';
import { SubscriptionPastDue } from './subscription-past-due.ts';
import { SubscriptionRenewed } from './subscription-renewed.ts';
import { WorkflowRetried } from './workflow-retried.ts';

export * from './common.ts';
export * from './customer-created.ts';
export * from './customer-deleted.ts';
export * from './customer-registered.ts';
export * from './payment-failed.ts';
export * from './payment-processed.ts';
export * from './payment-refunded.ts';
export * from './registration-compensated.ts';
export * from './registration-compensating.ts';
export * from './registration-compensation-failed.ts';
export * from './registration-completed.ts';
export * from './registration-customer-created.ts';
export * from './registration-payment-charged.ts';
export * from './registration-payment-declined.ts';
export * from './registration-started.ts';
export * from './registration-subscription-created.ts';
export * from './subscription-cancelled.ts';
export * from './subscription-created.ts';
export * from './subscription-ended.ts';
export * from './subscription-past-due.ts';
export * from './subscription-renewed.ts';
export * from './workflow-retried.ts';

/**
 * Every event type, for `new EventCatalog(seedEvents)`: the seed's contract (its five topics and
 * payment.failed, first) and the events the write side adds, each on its own topic.
 */
export const seedEvents: readonly EventDefinition[] = [
  CustomerRegistered,
  PaymentProcessed,
  PaymentFailed,
  SubscriptionCreated,
  SubscriptionRenewed,
  SubscriptionCancelled,
  CustomerCreated,
  CustomerDeleted,
  PaymentRefunded,
  SubscriptionPastDue,
  SubscriptionEnded,
  RegistrationStarted,
  RegistrationCustomerCreated,
  RegistrationPaymentCharged,
  RegistrationPaymentDeclined,
  RegistrationSubscriptionCreated,
  RegistrationCompleted,
  RegistrationCompensating,
  RegistrationCompensated,
  RegistrationCompensationFailed,
  WorkflowRetried,
];
