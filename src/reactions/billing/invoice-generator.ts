import type { PaymentProcessedData } from '../../domain/events/payment-processed.ts';
import type { SubscriptionRenewedData } from '../../domain/events/subscription-renewed.ts';
import type { Clock } from '../../kernel/clock.ts';
import { defineConsumer, type ConsumerDefinition } from '../../kernel/consumers/consumer.ts';
import { findCharge, paidFor, paidForRenewal, ServiceUnknownError, type PaidFor, type PaidForDeps } from './paid-for.ts';
import { invoiceOfPayment, issueInvoice, type NewInvoice } from './invoices.ts';

export interface InvoiceGeneratorDeps extends PaidForDeps {
  clock: Clock;
}

/**
 * The invoice of one charge: one line (the plan for its service period), tax included in the price
 * at the rate the charge recorded, so a rate changed since (or a late consumer) never alters it.
 */
export function invoiceFor(payment: PaymentProcessedData, service: PaidFor, sourceEventId: string): NewInvoice {
  const { taxRateBps, taxAmount: tax } = payment;
  const subtotal = payment.amount - tax;
  return {
    paymentId: payment.paymentId,
    customerId: payment.customerId,
    subscriptionId: payment.subscriptionId ?? null,
    purpose: payment.purpose,
    periodIndex: service.periodIndex,
    planId: service.planId,
    lines: [
      {
        description: `${service.planName} subscription`,
        planId: service.planId,
        period: service.period,
        quantity: 1,
        unitAmount: subtotal,
        amount: subtotal,
      },
    ],
    currency: payment.currency,
    subtotal,
    tax,
    taxRateBps,
    total: payment.amount,
    paymentReference: payment.gatewayReference,
    paymentMethod: { brand: payment.paymentMethod.brand, last4: payment.paymentMethod.last4 },
    issuedAt: payment.processedAt,
    sourceEventId,
  };
}

/**
 * payment.processed and subscription.renewed → exactly one invoice per successful charge. A
 * renewal's two events are committed together but travel on two topics, so either may come first:
 * each issues the invoice from what the store holds (the payment's stream, the subscription's),
 * keyed by the payment id, and the second finds it issued.
 */
export const invoiceGenerator = (deps: InvoiceGeneratorDeps): ConsumerDefinition =>
  defineConsumer({
    name: 'invoice-generator',
    topics: ['payment.processed', 'subscription.renewed'],
    async handle(event, { tx, log }) {
      if (event.type !== 'PaymentProcessed' && event.type !== 'SubscriptionRenewed') return;
      const paymentId = (event.data as { paymentId: string }).paymentId;
      if (await invoiceOfPayment(tx, paymentId)) return; // issued on the charge's other event
      let payment: PaymentProcessedData;
      let service: PaidFor;
      if (event.type === 'PaymentProcessed') {
        payment = event.data as PaymentProcessedData;
        service = await paidFor(deps, tx, payment);
      } else {
        const renewal = event.data as SubscriptionRenewedData;
        const charge = await findCharge(deps.store, tx, renewal.paymentId);
        if (!charge) throw new ServiceUnknownError(`renewal ${renewal.subscriptionId}#${renewal.periodIndex}: payment ${renewal.paymentId} is not recorded`);
        payment = charge.data;
        service = await paidForRenewal(deps, renewal);
      }
      const invoice = await issueInvoice(tx, invoiceFor(payment, service, event.id), deps.clock.now());
      if (invoice) log.debug({ invoice: invoice.number, paymentId: payment.paymentId }, 'invoice issued');
    },
  });
