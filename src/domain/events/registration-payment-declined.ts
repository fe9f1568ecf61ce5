import { z } from 'zod';
import { defineEvent, type EventData } from '../../kernel/catalog/define-event.ts';
import { declineCode, id, isoTime } from './common.ts';

export const RegistrationPaymentDeclined = defineEvent({
  type: 'RegistrationPaymentDeclined',
  version: 1,
  topic: 'registration.payment_declined',
  description: 'Registration step failed: the gateway declined the first charge (HTTP 402); the saga compensates.',
  schema: z
    .object({
      registrationId: id,
      customerId: id,
      paymentId: id,
      declineCode,
      message: z.string().min(1).max(500),
      declinedAt: isoTime,
    })
    .strict(),
  partitionKey: (data) => data.customerId,
});

export type RegistrationPaymentDeclinedData = EventData<typeof RegistrationPaymentDeclined>;
