import type { Message } from '../decider.ts';
import type { PaymentMethod, PaymentPurpose } from '../events/common.ts';

/** What a charge is for; the same on every attempt of one payment. */
export interface ChargeDetails {
  paymentId: string;
  customerId: string;
  /** Null (or absent) for the registration payment: the subscription does not exist yet. */
  subscriptionId?: string | null;
  /** Integer minor units. */
  amount: number;
  currency: string;
  purpose: PaymentPurpose;
}

/** The gateway captured the charge. Only the card's token, brand and last4 are kept, whatever else is passed. */
export type RecordPaymentSucceeded = Message<
  'RecordPaymentSucceeded',
  ChargeDetails & {
    /** 0 for the registration payment, n for the n-th renewal. */
    periodIndex?: number;
    paymentMethod: PaymentMethod;
    gatewayReference: string;
    processedAt: string;
    /** The tax rate in force at the capture, in basis points: the event records it and the tax it comes to. */
    taxRateBps: number;
  }
>;

/** The gateway declined attempt `attempt` (1, 2, ...) of the charge. */
export type RecordPaymentFailed = Message<
  'RecordPaymentFailed',
  ChargeDetails & { declineCode: string; message: string; attempt: number; failedAt: string }
>;

/** Refunds a processed payment once, in full (no amount) or in part, in the charge's currency. */
export type RefundPayment = Message<
  'RefundPayment',
  { paymentId: string; amount?: number; reason: string; gatewayReference: string; refundedAt: string }
>;

export type PaymentCommand = RecordPaymentSucceeded | RecordPaymentFailed | RefundPayment;
