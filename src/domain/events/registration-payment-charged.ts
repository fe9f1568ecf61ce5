import { z } from 'zod';
import { defineEvent, type EventData } from '../../kernel/catalog/define-event.ts';
import { id, isoTime } from './common.ts';

export const RegistrationPaymentCharged = defineEvent({
  type: 'RegistrationPaymentCharged',
  version: 1,
  topic: 'registration.payment_charged',
  description: 'Registration step done: the first period was charged.',
  schema: z
    .object({
      registrationId: id,
      customerId: id,
      paymentId: id,
      chargedAt: isoTime,
    })
    .strict(),
  partitionKey: (data) => data.customerId,
});

export type RegistrationPaymentChargedData = EventData<typeof RegistrationPaymentCharged>;
