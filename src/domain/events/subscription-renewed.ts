import { z } from 'zod';
import { defineEvent, type EventData } from '../../kernel/catalog/define-event.ts';
import { currency, id, isoTime, minorUnits, period, planId } from './common.ts';

export const SubscriptionRenewed = defineEvent({
  type: 'SubscriptionRenewed',
  version: 1,
  topic: 'subscription.renewed',
  description: 'A subscription entered a new paid period; renewal notices, invoices and the churn model react to it.',
  schema: z
    .object({
      subscriptionId: id,
      customerId: id,
      planId,
      /** The first period (bought at registration) is 0, so the first renewal is 1. */
      periodIndex: z.int().min(1),
      period,
      paymentId: id,
      amount: minorUnits,
      currency,
      renewedAt: isoTime,
    })
    .strict(),
  partitionKey: (data) => data.customerId,
});

export type SubscriptionRenewedData = EventData<typeof SubscriptionRenewed>;
