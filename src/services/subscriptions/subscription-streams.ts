import { customerDecider, type Customer } from '../../domain/customer/decider.ts';
import type { CustomerEvent } from '../../domain/customer/events.ts';
import { subscriptionDecider, type Subscription } from '../../domain/subscription/decider.ts';
import type { SubscriptionEvent } from '../../domain/subscription/events.ts';
import type { Sql } from '../../kernel/db/database.ts';
import type { EventStore } from '../../kernel/store/event-store.ts';
import { customerStream, subscriptionStream } from '../streams.ts';

/** The current state of one aggregate, folded from its stream. */
export async function loadSubscription(store: EventStore, subscriptionId: string, tx?: Sql): Promise<Subscription> {
  const events = await store.readStream(subscriptionStream(subscriptionId), { tx });
  return events.reduce(
    (state, event) => subscriptionDecider.evolve(state, event as unknown as SubscriptionEvent),
    subscriptionDecider.initialState,
  );
}

export async function loadCustomer(store: EventStore, customerId: string, tx?: Sql): Promise<Customer> {
  const events = await store.readStream(customerStream(customerId), { tx });
  return events.reduce(
    (state, event) => customerDecider.evolve(state, event as unknown as CustomerEvent),
    customerDecider.initialState,
  );
}
