import type { PaymentProcessedData } from '../../domain/events/payment-processed.ts';
import type { SubscriptionRenewedData } from '../../domain/events/subscription-renewed.ts';
import type { Clock } from '../../kernel/clock.ts';
import { defineConsumer, type ConsumerDefinition } from '../../kernel/consumers/consumer.ts';
import type { Sql } from '../../kernel/db/database.ts';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';
import { paymentStream } from '../../services/streams.ts';
import {
  findCharge,
  paidFor,
  paidForRenewal,
  ServiceUnknownError,
  streamsOfPayment,
  type PaidFor,
  type PaidForDeps,
  type Streams,
} from './paid-for.ts';
import { invoiceOfPayment, issueInvoice, issueInvoices, paymentsInvoiced, type NewInvoice } from './invoices.ts';

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

/** The invoice a charge's event asks for; `streams` holds the streams it reads when already read. */
async function invoiceOf(
  deps: InvoiceGeneratorDeps,
  tx: Sql,
  event: RecordedEvent,
  streams?: Streams,
): Promise<NewInvoice> {
  let payment: PaymentProcessedData;
  let service: PaidFor;
  if (event.type === 'PaymentProcessed') {
    payment = event.data as PaymentProcessedData;
    service = await paidFor(deps, tx, payment, streams);
  } else {
    const renewal = event.data as SubscriptionRenewedData;
    const charge = await findCharge(deps.store, tx, renewal.paymentId, streams);
    if (!charge)
      throw new ServiceUnknownError(
        `renewal ${renewal.subscriptionId}#${renewal.periodIndex}: payment ${renewal.paymentId} is not recorded`,
      );
    payment = charge.data;
    service = await paidForRenewal(deps, renewal);
  }
  return invoiceFor(payment, service, event.id);
}

const isCharge = (event: RecordedEvent) => event.type === 'PaymentProcessed' || event.type === 'SubscriptionRenewed';
const paymentIdOf = (event: RecordedEvent) => (event.data as { paymentId: string }).paymentId;

/**
 * payment.processed and subscription.renewed → exactly one invoice per successful charge. A
 * renewal's two events are committed together but travel on two topics, so either may come first:
 * each issues the invoice from what the store holds (the payment's stream, the subscription's),
 * keyed by the payment id, and the second finds it issued. A batch reads the streams it needs in
 * one query and issues its invoices in one insert per year.
 */
export const invoiceGenerator = (deps: InvoiceGeneratorDeps): ConsumerDefinition =>
  defineConsumer({
    name: 'invoice-generator',
    topics: ['payment.processed', 'subscription.renewed'],
    async handle(event, { tx, log }) {
      if (!isCharge(event)) return;
      if (await invoiceOfPayment(tx, paymentIdOf(event))) return; // issued on the charge's other event
      const invoice = await issueInvoice(tx, await invoiceOf(deps, tx, event), deps.clock.now());
      if (invoice) log.debug({ invoice: invoice.number, paymentId: invoice.paymentId }, 'invoice issued');
    },
    async handleBatch(events, { tx, log }) {
      const issued = await paymentsInvoiced(tx, events.filter(isCharge).map(paymentIdOf));
      const todo = events.filter((event) => isCharge(event) && !issued.has(paymentIdOf(event)));
      const streams = await deps.store.readStreams(
        todo.map((event) =>
          event.type === 'PaymentProcessed'
            ? streamsOfPayment(event.data as PaymentProcessedData)
            : paymentStream(paymentIdOf(event)),
        ),
        { tx, trusted: true },
      );
      const invoices: NewInvoice[] = [];
      for (const event of todo) invoices.push(await invoiceOf(deps, tx, event, streams));
      const written = await issueInvoices(tx, invoices, deps.clock.now());
      log.debug({ invoices: written.length }, 'invoices issued');
    },
  });
