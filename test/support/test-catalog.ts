import { z } from 'zod';
import { EventCatalog } from '../../src/kernel/catalog/catalog.ts';
import { defineEvent } from '../../src/kernel/catalog/define-event.ts';

/** Kernel tests use events of their own: the kernel knows no domain. */
export const ThingHappened = defineEvent({
  type: 'ThingHappened',
  version: 2,
  topic: 'test.things',
  description: 'A test event; version 1 had no `note`',
  schema: z.object({ customerId: z.string().min(1), n: z.number().int(), note: z.string() }).strict(),
  partitionKey: (data) => data.customerId,
  upcasters: { 1: (data) => ({ ...data, note: 'upcast from v1' }) },
});

export const OtherThingHappened = defineEvent({
  type: 'OtherThingHappened',
  version: 1,
  topic: 'test.other',
  description: 'A second test event on another topic',
  schema: z.object({ customerId: z.string().min(1) }).strict(),
  partitionKey: (data) => data.customerId,
});

export const testCatalog = new EventCatalog([ThingHappened, OtherThingHappened]);

export const thing = (customerId: string, n: number, note = 'x') => ({
  type: 'ThingHappened',
  data: { customerId, n, note },
});
