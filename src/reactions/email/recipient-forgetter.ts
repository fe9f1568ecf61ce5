import type { CustomerDeletedData } from '../../domain/events/customer-deleted.ts';
import { defineConsumer } from '../../kernel/consumers/consumer.ts';
import { forgetRecipient } from './notification-log.ts';

/**
 * customer.deleted → the notification log forgets the customer's addresses (sealed with the key
 * erasure shredded, and their keyed hash). A compensated registration's customer is deleted too:
 * its entries are forgotten the same way.
 */
export const recipientForgetter = defineConsumer({
  name: 'email-recipient-forgetter',
  topics: ['customer.deleted'],
  async handle(event, { tx, log }) {
    const { customerId, reason } = event.data as CustomerDeletedData;
    const forgotten = await forgetRecipient(tx, customerId);
    if (forgotten > 0) log.info({ customerId, reason, forgotten }, 'email recipient forgotten');
  },
});
