import type { Decider } from '../decider.ts';
import { InvalidCommandError, InvalidTransitionError, NotFoundError } from '../errors.ts';
import type { PaymentMethod, PaymentPurpose } from '../events/common.ts';
import { assertMoney } from '../money.ts';
import { inclusiveTax } from '../tax.ts';
import { instant } from '../time.ts';
import type {
  ChargeDetails,
  PaymentCommand,
  RecordPaymentFailed,
  RecordPaymentSucceeded,
  RefundPayment,
} from './commands.ts';
import type { PaymentEvent } from './events.ts';

interface Charge {
  paymentId: string;
  customerId: string;
  subscriptionId: string | null;
  amount: number;
  currency: string;
  purpose: PaymentPurpose;
}

interface Capture {
  periodIndex: number | null;
  paymentMethod: PaymentMethod;
  gatewayReference: string;
  processedAt: string;
}

export interface Refund {
  amount: number;
  reason: string;
  gatewayReference: string;
  refundedAt: string;
}

export type Payment =
  | { status: 'none' }
  /** Declined so far; a later attempt of the same payment may still succeed. */
  | ({ status: 'failed'; attempt: number; declineCode: string; failedAt: string } & Charge)
  | ({ status: 'processed' } & Charge & Capture)
  | ({ status: 'refunded'; refund: Refund } & Charge & Capture);

export const initialState: Payment = { status: 'none' };

const chargeOf = (data: ChargeDetails): Charge => {
  const { paymentId, customerId, amount, currency, purpose } = data;
  return { paymentId, customerId, subscriptionId: data.subscriptionId ?? null, amount, currency, purpose };
};

const charge = (data: ChargeDetails): Charge => {
  assertMoney('payment', data.amount, data.currency);
  return chargeOf(data);
};

/** Every attempt of one payment charges the same customer the same money for the same thing. */
const assertSameCharge = (state: Charge, next: Charge): void => {
  const differs = (['customerId', 'subscriptionId', 'amount', 'currency', 'purpose'] as const).filter(
    (key) => state[key] !== next[key],
  );
  if (differs.length > 0) {
    throw new InvalidCommandError(
      'payment',
      'payment_mismatch',
      `payment ${state.paymentId}: ${differs.join(', ')} differ from the earlier attempt`,
    );
  }
};

const succeeded = ({ data }: RecordPaymentSucceeded, state: Payment): PaymentEvent[] => {
  if (state.status === 'processed' || state.status === 'refunded') {
    if (state.gatewayReference === data.gatewayReference) return [];
    // A second capture for one payment is a double charge: never record it silently.
    throw new InvalidTransitionError(
      'payment',
      'payment_already_processed',
      `payment ${data.paymentId} was already captured as ${state.gatewayReference}`,
    );
  }
  const details = charge(data);
  if (state.status === 'failed') assertSameCharge(state, details);
  const { brand, last4, tokenId } = data.paymentMethod;
  const taxAmount = taxOf(data.amount, data.taxRateBps);
  return [
    {
      type: 'PaymentProcessed',
      data: {
        ...details,
        ...(data.periodIndex === undefined ? {} : { periodIndex: data.periodIndex }),
        paymentMethod: tokenId === undefined ? { brand, last4 } : { brand, last4, tokenId },
        gatewayReference: data.gatewayReference,
        processedAt: instant('payment', 'processedAt', data.processedAt),
        taxRateBps: data.taxRateBps,
        taxAmount,
      },
    },
  ];
};

const taxOf = (amount: number, taxRateBps: number): number => {
  if (!Number.isInteger(taxRateBps) || taxRateBps < 0 || taxRateBps > 10_000) {
    throw new InvalidCommandError(
      'payment',
      'invalid_tax_rate',
      `taxRateBps: 0..10000 basis points, got ${taxRateBps}`,
    );
  }
  return inclusiveTax(amount, taxRateBps).tax;
};

const failed = ({ data }: RecordPaymentFailed, state: Payment): PaymentEvent[] => {
  if (!Number.isSafeInteger(data.attempt) || data.attempt < 1) {
    throw new InvalidCommandError('payment', 'invalid_attempt', `attempt: 1, 2, ..., got ${data.attempt}`);
  }
  if (state.status === 'processed' || state.status === 'refunded') {
    throw new InvalidTransitionError(
      'payment',
      'payment_already_processed',
      `payment ${data.paymentId} was already captured`,
    );
  }
  if (state.status === 'failed' && data.attempt <= state.attempt) return [];
  const details = charge(data);
  if (state.status === 'failed') assertSameCharge(state, details);
  const { declineCode, message, attempt } = data;
  return [
    {
      type: 'PaymentFailed',
      data: { ...details, declineCode, message, attempt, failedAt: instant('payment', 'failedAt', data.failedAt) },
    },
  ];
};

const refund = ({ data }: RefundPayment, state: Payment): PaymentEvent[] => {
  switch (state.status) {
    case 'none':
      throw new NotFoundError('payment', 'payment_not_found', `payment ${data.paymentId} does not exist`);
    case 'failed':
      throw new InvalidTransitionError(
        'payment',
        'payment_not_processed',
        `payment ${data.paymentId} was never captured: nothing to refund`,
      );
    case 'refunded':
      return [];
    case 'processed': {
      const amount = data.amount ?? state.amount;
      assertMoney('payment', amount, state.currency);
      if (amount > state.amount) {
        throw new InvalidCommandError(
          'payment',
          'refund_exceeds_charge',
          `refund of ${amount} exceeds the charge of ${state.amount} ${state.currency}`,
        );
      }
      const { paymentId, customerId, subscriptionId, currency } = state;
      const { reason, gatewayReference } = data;
      return [
        {
          type: 'PaymentRefunded',
          data: {
            paymentId,
            customerId,
            subscriptionId,
            amount,
            currency,
            reason,
            gatewayReference,
            refundedAt: instant('payment', 'refundedAt', data.refundedAt),
          },
        },
      ];
    }
  }
};

export const decide = (command: PaymentCommand, state: Payment): PaymentEvent[] => {
  if (state.status !== 'none' && state.paymentId !== command.data.paymentId) {
    throw new InvalidCommandError(
      'payment',
      'wrong_payment',
      `command for payment ${command.data.paymentId} sent to payment ${state.paymentId}`,
    );
  }
  switch (command.type) {
    case 'RecordPaymentSucceeded':
      return succeeded(command, state);
    case 'RecordPaymentFailed':
      return failed(command, state);
    case 'RefundPayment':
      return refund(command, state);
  }
};

export const evolve = (state: Payment, event: PaymentEvent): Payment => {
  switch (event.type) {
    case 'PaymentFailed': {
      const { attempt, declineCode, failedAt } = event.data;
      return { status: 'failed', ...chargeOf(event.data), attempt, declineCode, failedAt };
    }
    case 'PaymentProcessed': {
      const { paymentMethod, gatewayReference, processedAt } = event.data;
      return {
        status: 'processed',
        ...chargeOf(event.data),
        periodIndex: event.data.periodIndex ?? null,
        paymentMethod,
        gatewayReference,
        processedAt,
      };
    }
    case 'PaymentRefunded': {
      if (state.status !== 'processed') return state;
      const { amount, reason, gatewayReference, refundedAt } = event.data;
      return { ...state, status: 'refunded', refund: { amount, reason, gatewayReference, refundedAt } };
    }
  }
};

export const paymentDecider: Decider<PaymentCommand, Payment, PaymentEvent> = { decide, evolve, initialState };
