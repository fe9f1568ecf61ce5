import { customerDecider } from '../../domain/customer/decider.ts';
import type { CustomerEvent } from '../../domain/customer/events.ts';
import type { Sql } from '../../kernel/db/database.ts';
import type { EventStore } from '../../kernel/store/event-store.ts';
import { decrypt } from '../../kernel/crypto/personal-data.ts';

export type Recipient =
  | { reachable: true; customerId: string; email: string; name: string; planId: string }
  | { reachable: false; customerId: string; reason: 'customer_deleted' | 'unknown_customer' };

/**
 * Who gets a customer's emails, from the customer's own stream (CustomerCreated carries the
 * address and name, so a registration's payment is covered before CustomerRegistered). A deleted
 * (erased or compensated) customer, or one whose key was shredded, gets nothing.
 */
export async function findRecipient(store: EventStore, tx: Sql, customerId: string): Promise<Recipient> {
  const events = await store.readStream(`customer-${customerId}`, { tx });
  const customer = events.reduce((state, event) => customerDecider.evolve(state, event as unknown as CustomerEvent), customerDecider.initialState);
  switch (customer.status) {
    case 'none':
      return { reachable: false, customerId, reason: 'unknown_customer' };
    case 'deleted':
      return { reachable: false, customerId, reason: 'customer_deleted' };
    default: {
      // The address and name are encrypted with the customer's key: no key (erased) → no email.
      const personal = await decrypt(customerId, customer.pii, tx);
      if (!personal) return { reachable: false, customerId, reason: 'customer_deleted' };
      return { reachable: true, customerId, email: personal.email, name: personal.name, planId: customer.planId };
    }
  }
}
