import { z } from 'zod';
import { defineEvent, type EventData } from '../../kernel/catalog/define-event.ts';
import { id, isoTime, reason } from './common.ts';

export const SubscriptionEnded = defineEvent({
  type: 'SubscriptionEnded',
  version: 1,
  topic: 'subscription.ended',
  description:
    'A subscription cancelled at the end of its period reached that end: it is over and is never charged again.',
  schema: z
    .object({
      subscriptionId: id,
      customerId: id,
      /** The cancellation's reason. */
      reason,
      /** The cancellation's effectiveAt: the end of the last paid period. */
      endedAt: isoTime,
    })
    .strict(),
  partitionKey: (data) => data.customerId,
});

export type SubscriptionEndedData = EventData<typeof SubscriptionEnded>;
