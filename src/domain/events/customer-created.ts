import { z } from 'zod';
import { defineEvent, type EventData } from '../../kernel/catalog/define-event.ts';
import { email, id, isoTime, personName, planId } from './common.ts';

export const CustomerCreated = defineEvent({
  type: 'CustomerCreated',
  version: 1,
  topic: 'customer.created',
  description:
    'The registration saga created a customer, pending until the registration completes (then CustomerRegistered) or is compensated (then CustomerDeleted).',
  schema: z
    .object({
      customerId: id,
      email,
      name: personName,
      planId,
      createdAt: isoTime,
    })
    .strict(),
  partitionKey: (data) => data.customerId,
});

export type CustomerCreatedData = EventData<typeof CustomerCreated>;
