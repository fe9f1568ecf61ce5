import { customerDecider } from '../../domain/customer/decider.ts';
import type { CustomerEvent } from '../../domain/customer/events.ts';
import type { Sql } from '../../kernel/db/database.ts';
import type { EventStore } from '../../kernel/store/event-store.ts';
import { keysOf, openMany, type Pii } from '../../kernel/crypto/personal-data.ts';
import { customerStream } from '../../services/streams.ts';

export type Recipient =
  | { reachable: true; customerId: string; email: string; name: string; planId: string }
  | { reachable: false; customerId: string; reason: 'customer_deleted' | 'unknown_customer' };

/**
 * Who gets a customer's emails, from the customer's own stream (CustomerCreated carries the
 * address and name, so a registration's payment is covered before CustomerRegistered). A deleted
 * (erased or compensated) customer, or one whose key was shredded, gets nothing.
 */
export async function findRecipient(store: EventStore, tx: Sql, customerId: string): Promise<Recipient> {
  return (await findRecipients(store, tx, [customerId])).get(customerId)!;
}

/**
 * `findRecipient` for several customers: their streams in one query, their keys in another (or
 * the `keys` the caller read already, to seal with them too).
 */
export async function findRecipients(
  store: EventStore,
  tx: Sql,
  customerIds: readonly string[],
  keys?: ReadonlyMap<string, Buffer>,
): Promise<Map<string, Recipient>> {
  const streams = await store.readStreams(customerIds.map(customerStream), { tx, trusted: true });
  const recipients = new Map<string, Recipient>();
  const sealed: {
    customerId: string;
    customer: { pii: Pii; planId: string };
  }[] = [];
  for (const customerId of new Set(customerIds)) {
    const events = streams.get(customerStream(customerId)) ?? [];
    const customer = events.reduce(
      (state, event) => customerDecider.evolve(state, event as unknown as CustomerEvent),
      customerDecider.initialState,
    );
    if (customer.status === 'none')
      recipients.set(customerId, { reachable: false, customerId, reason: 'unknown_customer' });
    else if (customer.status === 'deleted')
      recipients.set(customerId, { reachable: false, customerId, reason: 'customer_deleted' });
    else sealed.push({ customerId, customer });
  }
  // The address and name are encrypted with the customer's key: no key (erased) → no email.
  const personal = openMany(
    sealed.map(({ customerId, customer }) => ({ customerId, pii: customer.pii })),
    keys ??
      (await keysOf(
        tx,
        sealed.map(({ customerId }) => customerId),
      )),
  );
  for (const { customerId, customer } of sealed) {
    const clear = personal.get(customerId);
    recipients.set(
      customerId,
      clear
        ? { reachable: true, customerId, email: clear.email, name: clear.name, planId: customer.planId }
        : { reachable: false, customerId, reason: 'customer_deleted' },
    );
  }
  return recipients;
}
