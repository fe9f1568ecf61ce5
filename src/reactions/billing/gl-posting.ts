import type { PaymentProcessedData } from '../../domain/events/payment-processed.ts';
import type { PaymentRefundedData } from '../../domain/events/payment-refunded.ts';
import type { Clock } from '../../kernel/clock.ts';
import { defineConsumer, type ConsumerDefinition } from '../../kernel/consumers/consumer.ts';
import type { Sql } from '../../kernel/db/database.ts';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';
import { ACCOUNTS } from './ledger/accounts.ts';
import {
  credit,
  debit,
  entryExists,
  nonZero,
  postEntries,
  UnbalancedEntryError,
  type JournalEntry,
} from './ledger/journal.ts';
import { splitRefund } from './ledger/recognition.ts';
import {
  applyRefund,
  basisOf,
  lockSchedule,
  openSchedules,
  recogniseThrough,
  type NewSchedule,
} from './ledger/revenue-schedules.ts';
import { findCharge, paidFor, ServiceUnknownError, streamsOfPayment, type PaidForDeps } from './paid-for.ts';

export interface GlPostingDeps extends PaidForDeps {
  clock: Clock;
}

/**
 * A charge: invoiced (Dr Accounts Receivable / Cr Deferred Revenue, and Cr Tax Payable for the tax
 * inside the price) and paid at once (Dr Cash / Cr Accounts Receivable); its net amount is then
 * recognised day by day over the service period. Both entries are keyed by the PaymentProcessed.
 */
async function postCharge(deps: GlPostingDeps, tx: Sql, event: RecordedEvent<PaymentProcessedData>): Promise<void> {
  await postCharges(deps, tx, [event]);
}

/** `postCharge` for several charges: their streams read in one query, their entries and schedules written in one statement each. */
async function postCharges(
  deps: GlPostingDeps,
  tx: Sql,
  events: readonly RecordedEvent<PaymentProcessedData>[],
): Promise<void> {
  const { rows } = await tx.query<{ source_id: string }>(
    `select source_id::text as source_id from journal_entries where source_id = any($1::uuid[]) and kind = 'charge' and part = 0`,
    [events.map((event) => event.id)],
  );
  const posted = new Set(rows.map((row) => row.source_id));
  const todo = events.filter((event) => !posted.has(event.id) && (posted.add(event.id), true));
  if (todo.length === 0) return;
  const streams =
    todo.length > 1
      ? await deps.store.readStreams(
          todo.map((event) => streamsOfPayment(event.data)),
          { tx, trusted: true },
        )
      : undefined;
  const entries: JournalEntry[] = [];
  const schedules: NewSchedule[] = [];
  for (const event of todo) {
    const payment = event.data;
    // The tax the charge recorded when it was captured, as on its invoice: never today's rate.
    const tax = payment.taxAmount;
    const subtotal = payment.amount - tax;
    const service = await paidFor(deps, tx, payment, streams);
    const base = {
      sourceId: event.id,
      part: 0,
      paymentId: payment.paymentId,
      customerId: payment.customerId,
      currency: payment.currency,
      effectiveAt: new Date(payment.processedAt),
    };
    entries.push(
      {
        ...base,
        kind: 'charge',
        description: `Invoiced: ${service.planName}, ${service.period.start.slice(0, 10)} to ${service.period.end.slice(0, 10)}`,
        lines: nonZero(
          debit(ACCOUNTS.receivable, payment.amount),
          credit(ACCOUNTS.deferredRevenue, subtotal),
          credit(ACCOUNTS.taxPayable, tax),
        ),
      },
      {
        ...base,
        kind: 'settlement',
        description: `Paid by ${payment.paymentMethod.brand} ${payment.paymentMethod.last4} (${payment.gatewayReference})`,
        lines: [debit(ACCOUNTS.cash, payment.amount), credit(ACCOUNTS.receivable, payment.amount)],
      },
    );
    schedules.push({
      paymentId: payment.paymentId,
      chargeEventId: event.id,
      customerId: payment.customerId,
      currency: payment.currency,
      gross: payment.amount,
      tax,
      amount: subtotal,
      period: service.period,
    });
  }
  const written = new Set((await postEntries(tx, entries, deps.clock.now())).map((entry) => entry.sourceId));
  await openSchedules(
    tx,
    schedules.filter((schedule) => written.has(schedule.chargeEventId)),
  );
}

/**
 * A refund, in full or in part: first the days earned up to the refund are recognised, then the
 * refund takes its share of the tax out of Tax Payable, the unearned part of its net out of
 * Deferred Revenue, the part already recognised to Refunds, and credits Cash with the whole.
 * On Kafka the refund may arrive before its charge (two topics): the charge is posted first,
 * from the payment's stream, under its own key, so its own event later finds it posted.
 */
async function postRefund(deps: GlPostingDeps, tx: Sql, event: RecordedEvent<PaymentRefundedData>): Promise<void> {
  if (await entryExists(tx, { sourceId: event.id, kind: 'refund' })) return;
  const refund = event.data;
  let schedule = await lockSchedule(tx, refund.paymentId);
  if (!schedule) {
    const charge = await findCharge(deps.store, tx, refund.paymentId);
    if (!charge)
      throw new ServiceUnknownError(`refund ${event.id}: payment ${refund.paymentId} has no recorded charge`);
    await postCharge(deps, tx, charge);
    schedule = await lockSchedule(tx, refund.paymentId);
    if (!schedule)
      throw new ServiceUnknownError(
        `refund ${event.id}: the charge of payment ${refund.paymentId} opened no revenue schedule`,
      );
  }
  if (refund.currency !== schedule.currency) {
    throw new UnbalancedEntryError(`refund ${event.id}: ${refund.currency} refund of a ${schedule.currency} charge`);
  }
  const now = deps.clock.now();
  schedule = await recogniseThrough(tx, schedule, new Date(refund.refundedAt), now);
  const split = splitRefund(basisOf(schedule), refund.amount);
  await postEntries(
    tx,
    [
      {
        sourceId: event.id,
        kind: 'refund',
        part: 0,
        paymentId: refund.paymentId,
        customerId: refund.customerId,
        currency: refund.currency,
        description: `Refunded (${refund.reason}, ${refund.gatewayReference})`,
        effectiveAt: new Date(refund.refundedAt),
        lines: nonZero(
          debit(ACCOUNTS.deferredRevenue, split.deferred),
          debit(ACCOUNTS.refunds, split.refunds),
          debit(ACCOUNTS.taxPayable, split.tax),
          credit(ACCOUNTS.cash, refund.amount),
        ),
      },
    ],
    now,
  );
  await applyRefund(tx, schedule, { gross: refund.amount, tax: split.tax, deferred: split.deferred });
}

/**
 * The general ledger: payment.processed (as wired in the event-flow table) and payment.refunded,
 * which it needs to reverse a refunded charge. Revenue recognition is not an event: the clock
 * drives it (see revenue-recognizer.ts).
 */
export const glPosting = (deps: GlPostingDeps): ConsumerDefinition =>
  defineConsumer({
    name: 'gl-posting',
    topics: ['payment.processed', 'payment.refunded'],
    async handle(event, { tx }) {
      if (event.type === 'PaymentProcessed') await postCharge(deps, tx, event as RecordedEvent<PaymentProcessedData>);
      else if (event.type === 'PaymentRefunded')
        await postRefund(deps, tx, event as RecordedEvent<PaymentRefundedData>);
    },
    // Runs of charges are posted together; a refund (it may need its charge posted) after the charges before it.
    async handleBatch(events, { tx }) {
      let charges: RecordedEvent<PaymentProcessedData>[] = [];
      for (const event of events) {
        if (event.type === 'PaymentProcessed') charges.push(event as RecordedEvent<PaymentProcessedData>);
        else if (event.type === 'PaymentRefunded') {
          await postCharges(deps, tx, charges);
          charges = [];
          await postRefund(deps, tx, event as RecordedEvent<PaymentRefundedData>);
        }
      }
      await postCharges(deps, tx, charges);
    },
  });
