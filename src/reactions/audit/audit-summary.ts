import type {
  CustomerRegisteredData,
  PaymentProcessedData,
  SubscriptionCreatedData,
} from '../../domain/events/index.ts';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';

// Building an Intl.NumberFormat costs tens of µs (a few % of the audit-logger's CPU): once per currency.
const exponents = new Map<string, number>();
const exponentOf = (currency: string): number => {
  let digits = exponents.get(currency);
  if (digits === undefined) {
    const format = new Intl.NumberFormat('en', { style: 'currency', currency });
    exponents.set(currency, (digits = format.resolvedOptions().maximumFractionDigits ?? 2));
  }
  return digits;
};

/** Minor units as a decimal string in the currency's own exponent (JPY 0, EUR 2, KWD 3), without floats. */
export function formatMinorUnits(amount: number, currency: string): string {
  const digits = exponentOf(currency);
  if (digits === 0) return `${amount} ${currency}`;
  const text = String(amount).padStart(digits + 1, '0');
  return `${text.slice(0, -digits)}.${text.slice(-digits)} ${currency}`;
}

const day = (iso: string) => iso.slice(0, 10);

/**
 * One line saying what happened, with ids, amounts and plan, and of a card only its brand and
 * last four digits: no email, no name, no token, so the audit trail holds no personal data to erase.
 */
export function auditSummary(event: RecordedEvent): string {
  switch (event.type) {
    case 'CustomerRegistered': {
      const data = event.data as CustomerRegisteredData;
      return `customer ${data.customerId} registered on plan ${data.planId}`;
    }
    case 'PaymentProcessed': {
      const data = event.data as PaymentProcessedData;
      const period = data.periodIndex === undefined ? '' : ` (period ${data.periodIndex})`;
      return `payment ${formatMinorUnits(data.amount, data.currency)} for ${data.purpose}${period}, ${data.paymentMethod.brand} ••${data.paymentMethod.last4}, payment ${data.paymentId}`;
    }
    case 'SubscriptionCreated': {
      const data = event.data as SubscriptionCreatedData;
      return `subscription ${data.subscriptionId} created on plan ${data.planId} at ${formatMinorUnits(data.price.amount, data.price.currency)}/${data.interval}, first period ${day(data.currentPeriod.start)} to ${day(data.currentPeriod.end)}`;
    }
    default:
      // An event the audit log has no wording for yet: its type only, never its data.
      return `${event.type} on ${event.streamId}`;
  }
}

/** The customer an event is about: its customerId, else the message key (the customer id by design). */
export const auditSubject = (event: RecordedEvent): string => {
  const customerId = (event.data as { customerId?: unknown } | null)?.customerId;
  return typeof customerId === 'string' ? customerId : event.partitionKey;
};
