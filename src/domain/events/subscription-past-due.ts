import { z } from 'zod';
import { defineEvent, type EventData } from '../../kernel/catalog/define-event.ts';
import { declineCode, id, isoTime } from './common.ts';

export const SubscriptionPastDue = defineEvent({
  type: 'SubscriptionPastDue',
  version: 1,
  topic: 'subscription.past_due',
  description:
    'A renewal charge failed: the subscription is past due and dunning retries it at nextRetryAt; with no retry left (nextRetryAt null) a SubscriptionCancelled with reason payment_failed follows.',
  schema: z
    .object({
      subscriptionId: id,
      customerId: id,
      /** The period the failed charge was for (the first renewal is 1). */
      periodIndex: z.int().min(1),
      paymentId: id,
      /** 1 for the charge when the period ended, then one more per dunning retry. */
      attempt: z.int().min(1),
      declineCode,
      failedAt: isoTime,
      /** When dunning charges again; null when the schedule is exhausted. */
      nextRetryAt: isoTime.nullable(),
    })
    .strict()
    .refine((data) => data.nextRetryAt === null || Date.parse(data.nextRetryAt) > Date.parse(data.failedAt), {
      message: 'nextRetryAt must be after failedAt',
      path: ['nextRetryAt'],
    }),
  partitionKey: (data) => data.customerId,
});

export type SubscriptionPastDueData = EventData<typeof SubscriptionPastDue>;
