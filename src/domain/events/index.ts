import type { EventDefinition } from '../../kernel/catalog/define-event.ts';
import { CustomerRegistered } from './customer-registered.ts';
import { PaymentFailed } from './payment-failed.ts';
import { PaymentProcessed } from './payment-processed.ts';
import { SubscriptionCancelled } from './subscription-cancelled.ts';
import { SubscriptionCreated } from './subscription-created.ts';
import { SubscriptionRenewed } from './subscription-renewed.ts';

export * from './common.ts';
export * from './customer-registered.ts';
export * from './payment-failed.ts';
export * from './payment-processed.ts';
export * from './subscription-cancelled.ts';
export * from './subscription-created.ts';
export * from './subscription-renewed.ts';

/** Every event type of the seed, for `new EventCatalog(seedEvents)`. */
export const seedEvents: readonly EventDefinition[] = [
  CustomerRegistered,
  PaymentProcessed,
  PaymentFailed,
  SubscriptionCreated,
  SubscriptionRenewed,
  SubscriptionCancelled,
];
