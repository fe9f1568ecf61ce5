import { customerDecider } from '../../domain/customer/decider.ts';
import type { CustomerEvent } from '../../domain/customer/events.ts';
import type { Sql } from '../../kernel/db/database.ts';
import type { EventStore } from '../../kernel/store/event-store.ts';

export type Recipient =
  | { reachable: true; customerId: string; email: string; name: string; planId: string }
  | { reachable: false; customerId: string; reason: 'customer_deleted' | 'unknown_customer' };

/**
 * Who gets a customer's emails, from the customer's own stream (CustomerCreated carries the
 * address and name, so a registration's payment is covered before CustomerRegistered). A deleted
 * (erased or compensated) customer gets nothing.
 */
export async function findRecipient(store: EventStore, tx: Sql, customerId: string): Promise<Recipient> {
  const events = await store.readStream(`customer-${customerId}`, { tx });
  const customer = events.reduce((state, event) => customerDecider.evolve(state, event as unknown as CustomerEvent), customerDecider.initialState);
  switch (customer.status) {
    case 'none':
      return { reachable: false, customerId, reason: 'unknown_customer' };
    case 'deleted':
      return { reachable: false, customerId, reason: 'customer_deleted' };
    default:
      return { reachable: true, customerId, email: customer.email, name: customer.name, planId: customer.planId };
  }
}
