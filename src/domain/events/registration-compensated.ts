import { z } from 'zod';
import { defineEvent, type EventData } from '../../kernel/catalog/define-event.ts';
import { id, isoTime } from './common.ts';

export const RegistrationCompensated = defineEvent({
  type: 'RegistrationCompensated',
  version: 1,
  topic: 'registration.compensated',
  description: 'The registration saga undid everything it had done: no customer and no charge are left.',
  schema: z
    .object({
      registrationId: id,
      customerId: id,
      compensatedAt: isoTime,
    })
    .strict(),
  partitionKey: (data) => data.customerId,
});

export type RegistrationCompensatedData = EventData<typeof RegistrationCompensated>;
