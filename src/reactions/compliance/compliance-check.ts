import type { SubscriptionCancelledData } from '../../domain/events/subscription-cancelled.ts';
import { defineConsumer } from '../../kernel/consumers/consumer.ts';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';
import { recordObligations } from './obligations.ts';

const cancellationOf = (event: RecordedEvent) => ({ eventId: event.id, data: event.data as SubscriptionCancelledData });

/** subscription.cancelled → the obligations the cancellation creates, checked when due by the clock. */
export const complianceCheck = (policy: { graceHours: number; retentionDays: number }) =>
  defineConsumer({
    name: 'compliance-check',
    topics: ['subscription.cancelled'],
    async handle(event, context) {
      await recordObligations(context.tx, [cancellationOf(event)], policy);
    },
    // A batch's obligations in two statements, not three per cancellation.
    async handleBatch(events, context) {
      await recordObligations(context.tx, events.map(cancellationOf), policy);
    },
  });
