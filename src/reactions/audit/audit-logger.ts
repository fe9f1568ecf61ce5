import { defineConsumer } from '../../kernel/consumers/consumer.ts';
import { appendAuditRecord, appendAuditRecords } from './audit-log.ts';

/** The audit logger's consumer group and subscriptions, as wired in the event-flow table. */
export const auditLogger = defineConsumer({
  name: 'audit-logger',
  topics: ['customer.registered', 'payment.processed', 'subscription.created'],
  async handle(event, { tx, log }) {
    const record = await appendAuditRecord(tx, event);
    if (record) log.debug({ auditRecord: record.id }, 'audit record appended');
  },
  async handleBatch(events, { tx, log }) {
    const records = await appendAuditRecords(tx, events);
    log.debug({ auditRecords: records.length }, 'audit records appended');
  },
});
