import type { CustomerDeletedData } from '../../domain/events/customer-deleted.ts';
import { defineConsumer } from '../../kernel/consumers/consumer.ts';
import type { Sql } from '../../kernel/db/database.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';
import { forgetRecipients } from './notification-log.ts';

/** The deleted customers' entries forgotten, in one statement for a batch. */
async function forget(events: readonly RecordedEvent[], { tx, log }: { tx: Sql; log: Logger }) {
  const deleted = events.map((event) => event.data as CustomerDeletedData);
  const reasons = new Map(deleted.map(({ customerId, reason }) => [customerId, reason]));
  const forgotten = await forgetRecipients(tx, [...reasons.keys()]);
  for (const [customerId, count] of forgotten)
    log.info({ customerId, reason: reasons.get(customerId), forgotten: count }, 'email recipient forgotten');
}

/**
 * customer.deleted → the notification log forgets the customer's addresses (sealed with the key
 * erasure shredded, and their keyed hash). A compensated registration's customer is deleted too:
 * its entries are forgotten the same way.
 */
export const recipientForgetter = defineConsumer({
  name: 'email-recipient-forgetter',
  topics: ['customer.deleted'],
  handle: (event, context) => forget([event], context),
  handleBatch: (events, context) => forget(events, context),
});
