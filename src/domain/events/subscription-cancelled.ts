import { z } from 'zod';
import { defineEvent, type EventData } from '../../kernel/catalog/define-event.ts';
import { id, isoTime } from './common.ts';

export const SubscriptionCancelled = defineEvent({
  type: 'SubscriptionCancelled',
  version: 1,
  topic: 'subscription.cancelled',
  description:
    'A subscription was cancelled, now or at the end of its period; analytics, the churn model and compliance react to it.',
  schema: z
    .object({
      subscriptionId: id,
      customerId: id,
      /** `customer_request`, `payment_failed`, or the customer's own words. */
      reason: z.string().min(1).max(500).regex(/\S/, 'reason must not be blank'),
      atPeriodEnd: z.boolean(),
      requestedAt: isoTime,
      /** `requestedAt` for an immediate cancellation, the period end otherwise. */
      effectiveAt: isoTime,
    })
    .strict()
    .refine((data) => Date.parse(data.effectiveAt) >= Date.parse(data.requestedAt), {
      message: 'effectiveAt must not be before requestedAt',
      path: ['effectiveAt'],
    }),
  partitionKey: (data) => data.customerId,
});

export type SubscriptionCancelledData = EventData<typeof SubscriptionCancelled>;
