import { z } from 'zod';
import { defineEvent, type EventData } from '../../kernel/catalog/define-event.ts';
import { id, isoTime } from './common.ts';

export const RegistrationCustomerCreated = defineEvent({
  type: 'RegistrationCustomerCreated',
  version: 1,
  topic: 'registration.customer_created',
  description: 'Registration step done: the customer exists (pending).',
  schema: z
    .object({
      registrationId: id,
      customerId: id,
      createdAt: isoTime,
    })
    .strict(),
  partitionKey: (data) => data.customerId,
});

export type RegistrationCustomerCreatedData = EventData<typeof RegistrationCustomerCreated>;
