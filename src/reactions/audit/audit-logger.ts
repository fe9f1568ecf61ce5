import { defineConsumer } from '../../kernel/consumers/consumer.ts';
import { appendAuditRecord } from './audit-log.ts';

/** The audit logger's consumer group and subscriptions, as wired in the event-flow table. */
export const auditLogger = defineConsumer({
  name: 'audit-logger',
  topics: ['customer.registered', 'payment.processed', 'subscription.created'],
  async handle(event, { tx, log }) {
    const record = await appendAuditRecord(tx, event);
    if (record) log.debug({ auditRecord: record.id }, 'audit record appended');
  },
});
