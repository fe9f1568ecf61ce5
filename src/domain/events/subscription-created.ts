import { z } from 'zod';
import { defineEvent, type EventData } from '../../kernel/catalog/define-event.ts';
import { billingInterval, id, isoTime, money, period, planId } from './common.ts';

export const SubscriptionCreated = defineEvent({
  type: 'SubscriptionCreated',
  version: 1,
  topic: 'subscription.created',
  description: 'A subscription started on a plan at a price fixed for its life; its first period is already paid.',
  schema: z
    .object({
      subscriptionId: id,
      customerId: id,
      planId,
      price: money,
      interval: billingInterval,
      currentPeriod: period,
      createdAt: isoTime,
    })
    .strict(),
  partitionKey: (data) => data.customerId,
});

export type SubscriptionCreatedData = EventData<typeof SubscriptionCreated>;
