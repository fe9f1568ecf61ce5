import { z } from 'zod';
import { defineEvent, type EventData } from '../../kernel/catalog/define-event.ts';
import { customerDeletionReason, id, isoTime } from './common.ts';

export const CustomerDeleted = defineEvent({
  type: 'CustomerDeleted',
  version: 1,
  topic: 'customer.deleted',
  description:
    'A customer was deleted: a declined or failed registration was compensated, or the customer asked to be forgotten. Carries no personal data.',
  schema: z
    .object({
      customerId: id,
      reason: customerDeletionReason,
      deletedAt: isoTime,
    })
    .strict(),
  partitionKey: (data) => data.customerId,
});

export type CustomerDeletedData = EventData<typeof CustomerDeleted>;
