import type { Period } from '../../domain/events/common.ts';
import type { PaymentProcessedData } from '../../domain/events/payment-processed.ts';
import type { SubscriptionCreatedData } from '../../domain/events/subscription-created.ts';
import type { SubscriptionRenewedData } from '../../domain/events/subscription-renewed.ts';
import { periodAt } from '../../domain/subscription/period.ts';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';
import { subscriptionStream } from '../../services/streams.ts';
import { findInvoiceNumbers } from './invoice-lookup.ts';
import { emailConsumer, type EmailDeps } from './send-once.ts';
import { paymentReceipt as receiptTemplate } from './templates.ts';

/**
 * The plan and service period a payment paid for. A renewal's are on the subscription (renewed in
 * the same transaction as the payment); a registration's subscription does not exist yet, so its
 * first period is reckoned from the payment, as the saga starts it right after the charge.
 */
async function paidFor(
  deps: EmailDeps,
  subscription: readonly RecordedEvent[],
  payment: PaymentProcessedData,
  registeredPlanId: string,
): Promise<{ planId: string; period: Period | null }> {
  if (payment.subscriptionId) {
    const renewal = subscription.find(
      (event) =>
        event.type === 'SubscriptionRenewed' && (event.data as SubscriptionRenewedData).paymentId === payment.paymentId,
    );
    if (renewal) {
      const { planId, period } = renewal.data as SubscriptionRenewedData;
      return { planId, period };
    }
    const created = subscription.find((event) => event.type === 'SubscriptionCreated')?.data as
      SubscriptionCreatedData | undefined;
    if (created)
      return {
        planId: created.planId,
        period: periodAt(created.currentPeriod.start, created.interval, payment.periodIndex ?? 0),
      };
  }
  const plan = await deps.plan(registeredPlanId);
  return {
    planId: registeredPlanId,
    period: plan && (payment.periodIndex ?? 0) === 0 ? periodAt(payment.processedAt, plan.interval, 0) : null,
  };
}

const paymentOf = (event: RecordedEvent) => event.data as PaymentProcessedData;

/** payment.processed → a receipt. A batch reads its subscriptions' streams and invoice numbers in one query each. */
export const paymentReceipt = (deps: EmailDeps) =>
  emailConsumer(deps, {
    type: 'payment-receipt',
    topics: ['payment.processed'],
    customerIdOf: (event) => paymentOf(event).customerId,
    async prepare(tx, events) {
      const payments = events.map(paymentOf);
      const subscriptions = payments.flatMap((payment) =>
        payment.subscriptionId ? [subscriptionStream(payment.subscriptionId)] : [],
      );
      // One after the other: a transaction is one connection (PGlite's cannot take two queries at once).
      const streams = await deps.store.readStreams(subscriptions, { tx, trusted: true });
      const invoices = await findInvoiceNumbers(
        tx,
        payments.map((payment) => payment.paymentId),
      );
      return { streams, invoices };
    },
    async render(event, recipient, { streams, invoices }) {
      const payment = paymentOf(event);
      const subscription = payment.subscriptionId
        ? (streams.get(subscriptionStream(payment.subscriptionId)) ?? [])
        : [];
      const { planId, period } = await paidFor(deps, subscription, payment, recipient.planId);
      const plan = await deps.plan(planId);
      return receiptTemplate({
        name: recipient.name,
        amount: payment.amount,
        currency: payment.currency,
        planName: plan?.name ?? planId,
        period,
        paidAt: payment.processedAt,
        paymentMethod: payment.paymentMethod,
        paymentId: payment.paymentId,
        reference: payment.gatewayReference,
        invoiceNumber: invoices.get(payment.paymentId) ?? null,
      });
    },
  });
