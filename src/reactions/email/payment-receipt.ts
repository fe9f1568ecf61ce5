import type { Period } from '../../domain/events/common.ts';
import type { PaymentProcessedData } from '../../domain/events/payment-processed.ts';
import type { SubscriptionCreatedData } from '../../domain/events/subscription-created.ts';
import type { SubscriptionRenewedData } from '../../domain/events/subscription-renewed.ts';
import { periodAt } from '../../domain/subscription/period.ts';
import { defineConsumer } from '../../kernel/consumers/consumer.ts';
import type { Sql } from '../../kernel/db/database.ts';
import { findInvoiceNumber } from './invoice-lookup.ts';
import { sendOnce, type EmailDeps } from './send-once.ts';
import { paymentReceipt as receiptTemplate } from './templates.ts';

/**
 * The plan and service period a payment paid for. A renewal's are on the subscription (renewed in
 * the same transaction as the payment); a registration's subscription does not exist yet, so its
 * first period is reckoned from the payment, as the saga starts it right after the charge.
 */
async function paidFor(deps: EmailDeps, tx: Sql, payment: PaymentProcessedData, registeredPlanId: string): Promise<{ planId: string; period: Period | null }> {
  if (payment.subscriptionId) {
    const events = await deps.store.readStream(`subscription-${payment.subscriptionId}`, { tx });
    const renewal = events.find((event) => event.type === 'SubscriptionRenewed' && (event.data as SubscriptionRenewedData).paymentId === payment.paymentId);
    if (renewal) {
      const { planId, period } = renewal.data as SubscriptionRenewedData;
      return { planId, period };
    }
    const created = events.find((event) => event.type === 'SubscriptionCreated')?.data as SubscriptionCreatedData | undefined;
    if (created) return { planId: created.planId, period: periodAt(created.currentPeriod.start, created.interval, payment.periodIndex ?? 0) };
  }
  const plan = await deps.plan(registeredPlanId);
  return { planId: registeredPlanId, period: plan && (payment.periodIndex ?? 0) === 0 ? periodAt(payment.processedAt, plan.interval, 0) : null };
}

/** payment.processed → a receipt. */
export const paymentReceipt = (deps: EmailDeps) =>
  defineConsumer({
    name: 'payment-receipt',
    // An email sent inside a batch that later rolls back would be sent again: one event per transaction.
    batch: false,
    topics: ['payment.processed'],
    async handle(event, context) {
      const payment = event.data as PaymentProcessedData;
      await sendOnce(deps, context, {
        event,
        type: 'payment-receipt',
        customerId: payment.customerId,
        async render(recipient) {
          const { planId, period } = await paidFor(deps, context.tx, payment, recipient.planId);
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
            invoiceNumber: await findInvoiceNumber(context.tx, payment.paymentId),
          });
        },
      });
    },
  });
