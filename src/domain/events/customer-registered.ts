import { z } from 'zod';
import { defineEvent, type EventData } from '../../kernel/catalog/define-event.ts';
import { encryptedPii, id, isoTime, legacyPii, piiField, planId } from './common.ts';

const schema = z
  .object({
    customerId: id,
    /** Email and name, encrypted with the customer's own key (crypto-shredding). */
    pii: piiField,
    planId,
    registeredAt: isoTime,
  })
  .strict();

export const CustomerRegistered = defineEvent({
  type: 'CustomerRegistered',
  version: 3,
  topic: 'customer.registered',
  description: 'A customer signed up and chose a plan; the welcome email, analytics and the audit log react to it.',
  schema,
  // New events never carry personal data in clear: only upcast old ones do.
  appendSchema: schema.extend({ pii: encryptedPii }),
  partitionKey: (data) => data.customerId,
  upcasters: {
    // v1 named the fields `fullName`, `plan` and `createdAt`; v2 renamed them, nothing else changed.
    1: ({ fullName, plan, createdAt, ...rest }) => ({ ...rest, name: fullName, planId: plan, registeredAt: createdAt }),
    // v2 carried `email` and `name` in clear: kept readable as legacy clear text.
    2: legacyPii,
  },
});

export type CustomerRegisteredData = EventData<typeof CustomerRegistered>;
