import type { Message } from '../decider.ts';
import type { CustomerCreatedData } from '../events/customer-created.ts';
import type { CustomerDeletedData } from '../events/customer-deleted.ts';
import type { CustomerRegisteredData } from '../events/customer-registered.ts';

export type CustomerEvent =
  | Message<'CustomerCreated', CustomerCreatedData>
  | Message<'CustomerRegistered', CustomerRegisteredData>
  | Message<'CustomerDeleted', CustomerDeletedData>;
