import type { Message } from '../decider.ts';
import type { SubscriptionCancelledData } from '../events/subscription-cancelled.ts';
import type { SubscriptionCreatedData } from '../events/subscription-created.ts';
import type { SubscriptionEndedData } from '../events/subscription-ended.ts';
import type { SubscriptionPastDueData } from '../events/subscription-past-due.ts';
import type { SubscriptionRenewedData } from '../events/subscription-renewed.ts';

export type SubscriptionEvent =
  | Message<'SubscriptionCreated', SubscriptionCreatedData>
  | Message<'SubscriptionRenewed', SubscriptionRenewedData>
  | Message<'SubscriptionPastDue', SubscriptionPastDueData>
  | Message<'SubscriptionCancelled', SubscriptionCancelledData>
  | Message<'SubscriptionEnded', SubscriptionEndedData>;
