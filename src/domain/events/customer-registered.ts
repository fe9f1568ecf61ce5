import { z } from 'zod';
import { defineEvent, type EventData } from '../../kernel/catalog/define-event.ts';
import { id, isoTime, planId } from './common.ts';

export const CustomerRegistered = defineEvent({
  type: 'CustomerRegistered',
  version: 2,
  topic: 'customer.registered',
  description: 'A customer signed up and chose a plan; the welcome email, analytics and the audit log react to it.',
  schema: z
    .object({
      customerId: id,
      email: z.email().max(254),
      name: z.string().min(1).max(200).regex(/\S/, 'name must not be blank'),
      planId,
      registeredAt: isoTime,
    })
    .strict(),
  partitionKey: (data) => data.customerId,
  upcasters: {
    // v1 named the fields `fullName`, `plan` and `createdAt`; v2 renamed them, nothing else changed.
    1: ({ fullName, plan, createdAt, ...rest }) => ({ ...rest, name: fullName, planId: plan, registeredAt: createdAt }),
  },
});

export type CustomerRegisteredData = EventData<typeof CustomerRegistered>;
