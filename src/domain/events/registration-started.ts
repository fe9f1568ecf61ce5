import { z } from 'zod';
import { defineEvent, type EventData } from '../../kernel/catalog/define-event.ts';
import { id, isoTime, planId } from './common.ts';

export const RegistrationStarted = defineEvent({
  type: 'RegistrationStarted',
  version: 1,
  topic: 'registration.started',
  description:
    'The registration saga started, with every id it will use fixed up front so a retried or resumed step never creates a second one.',
  schema: z
    .object({
      registrationId: id,
      customerId: id,
      paymentId: id,
      subscriptionId: id,
      planId,
      startedAt: isoTime,
    })
    .strict(),
  partitionKey: (data) => data.customerId,
});

export type RegistrationStartedData = EventData<typeof RegistrationStarted>;
