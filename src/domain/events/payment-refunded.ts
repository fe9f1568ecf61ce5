import { z } from 'zod';
import { defineEvent, type EventData } from '../../kernel/catalog/define-event.ts';
import { currency, id, isoTime, minorUnits, reason } from './common.ts';

export const PaymentRefunded = defineEvent({
  type: 'PaymentRefunded',
  version: 1,
  topic: 'payment.refunded',
  description: 'A processed payment was refunded, in full or in part (e.g. the registration failed after the charge).',
  schema: z
    .object({
      paymentId: id,
      customerId: id,
      /** Absent or null for the registration payment, as on PaymentProcessed. */
      subscriptionId: id.nullish(),
      /** At most the amount charged, in the charge's currency. */
      amount: minorUnits.positive(),
      currency,
      reason,
      /** The gateway's reference of the refund. */
      gatewayReference: z.string().min(1).max(255),
      refundedAt: isoTime,
    })
    .strict(),
  partitionKey: (data) => data.customerId,
});

export type PaymentRefundedData = EventData<typeof PaymentRefunded>;
