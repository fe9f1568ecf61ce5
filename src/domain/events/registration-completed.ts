import { z } from 'zod';
import { defineEvent, type EventData } from '../../kernel/catalog/define-event.ts';
import { id, isoTime } from './common.ts';

export const RegistrationCompleted = defineEvent({
  type: 'RegistrationCompleted',
  version: 1,
  topic: 'registration.completed',
  description: 'The registration saga finished: the customer is registered (CustomerRegistered) and subscribed.',
  schema: z
    .object({
      registrationId: id,
      customerId: id,
      completedAt: isoTime,
    })
    .strict(),
  partitionKey: (data) => data.customerId,
});

export type RegistrationCompletedData = EventData<typeof RegistrationCompleted>;
