import type { Message } from '../decider.ts';
import type { PaymentFailedData } from '../events/payment-failed.ts';
import type { PaymentProcessedData } from '../events/payment-processed.ts';
import type { PaymentRefundedData } from '../events/payment-refunded.ts';

export type PaymentEvent =
  | Message<'PaymentProcessed', PaymentProcessedData>
  | Message<'PaymentFailed', PaymentFailedData>
  | Message<'PaymentRefunded', PaymentRefundedData>;
