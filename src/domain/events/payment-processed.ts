import { z } from 'zod';
import { defineEvent, type EventData } from '../../kernel/catalog/define-event.ts';
import { currency, id, isoTime, minorUnits, paymentMethod, paymentPurpose } from './common.ts';

export const PaymentProcessed = defineEvent({
  type: 'PaymentProcessed',
  version: 1,
  topic: 'payment.processed',
  description: 'The gateway captured a payment (at registration or for a renewal); receipts, invoices and the ledger react to it.',
  schema: z
    .object({
      paymentId: id,
      customerId: id,
      /** Absent or null for the registration payment: the subscription does not exist yet. */
      subscriptionId: id.nullish(),
      amount: minorUnits.positive(),
      currency,
      purpose: paymentPurpose,
      /** 0 for the registration payment, n for the n-th renewal. */
      periodIndex: z.int().nonnegative().optional(),
      paymentMethod,
      gatewayReference: z.string().min(1).max(255),
      processedAt: isoTime,
    })
    .strict(),
  partitionKey: (data) => data.customerId,
});

export type PaymentProcessedData = EventData<typeof PaymentProcessed>;
