import { z } from 'zod';
import { defineEvent, type EventData } from '../../kernel/catalog/define-event.ts';
import { currency, id, isoTime, minorUnits, paymentMethod, paymentPurpose } from './common.ts';

export const PaymentProcessed = defineEvent({
  type: 'PaymentProcessed',
  version: 2,
  topic: 'payment.processed',
  description:
    'The gateway captured a payment (at registration or for a renewal); receipts, invoices and the ledger react to it.',
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
      /**
       * The tax inside the amount, as it was when the charge was captured (basis points, and the
       * minor units it came to): invoices and the ledger read these, never today's TAX_RATE_BPS.
       */
      taxRateBps: z.int().min(0).max(10_000),
      taxAmount: minorUnits,
    })
    .strict()
    .refine((data) => data.taxAmount <= data.amount, {
      message: 'the tax cannot exceed the amount',
      path: ['taxAmount'],
    }),
  partitionKey: (data) => data.customerId,
  upcasters: {
    // v1 charges did not record their tax; they are read as charged at 0 bps, TAX_RATE_BPS's default.
    1: (data) => ({ ...data, taxRateBps: 0, taxAmount: 0 }),
  },
});

export type PaymentProcessedData = EventData<typeof PaymentProcessed>;
