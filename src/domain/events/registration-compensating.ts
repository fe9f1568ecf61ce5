import { z } from 'zod';
import { defineEvent, type EventData } from '../../kernel/catalog/define-event.ts';
import { id, isoTime, registrationCompensation, registrationStep } from './common.ts';

export const RegistrationCompensating = defineEvent({
  type: 'RegistrationCompensating',
  version: 1,
  topic: 'registration.compensating',
  description:
    'A registration step failed or was declined: the saga undoes what may have been done, in the order listed.',
  schema: z
    .object({
      registrationId: id,
      customerId: id,
      reason: z.enum(['payment_declined', 'step_failed']),
      failedStep: registrationStep,
      error: z.string().min(1).max(1000),
      compensations: z.array(registrationCompensation),
      /** When the step failed (or was declined) and compensation began. */
      failedAt: isoTime,
    })
    .strict(),
  partitionKey: (data) => data.customerId,
});

export type RegistrationCompensatingData = EventData<typeof RegistrationCompensating>;
