import { z } from 'zod';
import { defineEvent, type EventData } from '../../kernel/catalog/define-event.ts';
import { currency, id, isoTime, minorUnits, paymentPurpose } from './common.ts';

export const PaymentFailed = defineEvent({
  type: 'PaymentFailed',
  version: 1,
  topic: 'payment.failed',
  description: 'The gateway declined a payment attempt; registration compensates, renewal enters dunning.',
  schema: z
    .object({
      paymentId: id,
      customerId: id,
      /** Null for the registration payment: the subscription does not exist yet. */
      subscriptionId: id.nullable(),
      amount: minorUnits.positive(),
      currency,
      purpose: paymentPurpose,
      /** The gateway's code, e.g. `card_declined`, `insufficient_funds`, `expired_card`. */
      declineCode: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'decline code in snake_case'),
      message: z.string().min(1).max(500),
      attempt: z.int().min(1),
      failedAt: isoTime,
    })
    .strict(),
  partitionKey: (data) => data.customerId,
});

export type PaymentFailedData = EventData<typeof PaymentFailed>;
