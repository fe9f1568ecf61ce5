import { z } from 'zod';
import { defineEvent, type EventData } from '../../kernel/catalog/define-event.ts';
import { encryptedPii, id, isoTime, legacyPii, piiField, planId } from './common.ts';

const schema = z
  .object({
    customerId: id,
    /** Email and name, encrypted with the customer's own key (crypto-shredding). */
    pii: piiField,
    planId,
    createdAt: isoTime,
  })
  .strict();

export const CustomerCreated = defineEvent({
  type: 'CustomerCreated',
  version: 2,
  topic: 'customer.created',
  description:
    'The registration saga created a customer, pending until the registration completes (then CustomerRegistered) or is compensated (then CustomerDeleted).',
  schema,
  // New events never carry personal data in clear: only upcast old ones do.
  appendSchema: schema.extend({ pii: encryptedPii }),
  partitionKey: (data) => data.customerId,
  upcasters: {
    // v1 carried `email` and `name` in clear: kept readable as legacy clear text.
    1: legacyPii,
  },
});

export type CustomerCreatedData = EventData<typeof CustomerCreated>;
