import { z } from 'zod';
import { defineEvent, type EventData } from '../../kernel/catalog/define-event.ts';
import { id, isoTime } from './common.ts';

export const RegistrationSubscriptionCreated = defineEvent({
  type: 'RegistrationSubscriptionCreated',
  version: 1,
  topic: 'registration.subscription_created',
  description: 'Registration step done: the subscription exists; from here the saga only goes forward.',
  schema: z
    .object({
      registrationId: id,
      customerId: id,
      subscriptionId: id,
      createdAt: isoTime,
    })
    .strict(),
  partitionKey: (data) => data.customerId,
});

export type RegistrationSubscriptionCreatedData = EventData<typeof RegistrationSubscriptionCreated>;
