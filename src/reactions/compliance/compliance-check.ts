import type { SubscriptionCancelledData } from '../../domain/events/subscription-cancelled.ts';
import { defineConsumer } from '../../kernel/consumers/consumer.ts';
import { recordObligations } from './obligations.ts';

/** subscription.cancelled → the obligations the cancellation creates, checked when due by the clock. */
export const complianceCheck = (policy: { graceHours: number; retentionDays: number }) =>
  defineConsumer({
    name: 'compliance-check',
    topics: ['subscription.cancelled'],
    async handle(event, context) {
      await recordObligations(context.tx, event.id, event.data as SubscriptionCancelledData, policy);
    },
  });
