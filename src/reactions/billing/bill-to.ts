import { customerDecider } from '../../domain/customer/decider.ts';
import type { CustomerEvent } from '../../domain/customer/events.ts';
import { decrypt, type PersonalData } from '../../kernel/crypto/personal-data.ts';
import type { Sql } from '../../kernel/db/database.ts';
import type { EventStore } from '../../kernel/store/event-store.ts';
import { customerStream } from '../../services/streams.ts';

/**
 * Whom an invoice is billed to, opened at the edge from the customer's own stream (invoices keep
 * no personal data): null once the customer is deleted or its key shredded ("erased customer").
 */
export async function billTo(store: EventStore, sql: Sql, customerId: string): Promise<PersonalData | null> {
  const events = await store.readStream(customerStream(customerId));
  const customer = events.reduce(
    (state, event) => customerDecider.evolve(state, event as unknown as CustomerEvent),
    customerDecider.initialState,
  );
  if (customer.status !== 'pending' && customer.status !== 'registered') return null;
  return decrypt(customerId, customer.pii, sql);
}
