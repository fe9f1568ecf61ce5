import { z } from 'zod';
import { defineEvent, type EventData } from '../../kernel/catalog/define-event.ts';
import { id, isoTime } from './common.ts';

export const RegistrationCompensationFailed = defineEvent({
  type: 'RegistrationCompensationFailed',
  version: 1,
  topic: 'registration.compensation_failed',
  description: 'Compensating a registration kept failing: it is parked for an operator, never dropped.',
  schema: z
    .object({
      registrationId: id,
      customerId: id,
      error: z.string().min(1).max(1000),
      failedAt: isoTime,
    })
    .strict(),
  partitionKey: (data) => data.customerId,
});

export type RegistrationCompensationFailedData = EventData<typeof RegistrationCompensationFailed>;
