import type { Message } from '../decider.ts';
import type { CustomerDeletionReason, Pii } from '../events/common.ts';

/** Creates the customer as pending: it becomes registered only when the registration saga completes. */
export type CreateCustomer = Message<
  'CreateCustomer',
  { customerId: string; pii: Pii; planId: string; createdAt: string }
>;

/** pending → registered; publishes CustomerRegistered (welcome email, analytics, audit). */
export type RegisterCustomer = Message<'RegisterCustomer', { customerId: string; registeredAt: string }>;

/** Compensation (a registration that did not complete) or erasure (the customer asked to be forgotten). */
export type DeleteCustomer = Message<
  'DeleteCustomer',
  { customerId: string; reason: CustomerDeletionReason; deletedAt: string }
>;

export type CustomerCommand = CreateCustomer | RegisterCustomer | DeleteCustomer;
