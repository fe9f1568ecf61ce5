import type { Period } from '../../domain/events/common.ts';
import type { CustomerCreatedData } from '../../domain/events/customer-created.ts';
import type { PaymentProcessedData } from '../../domain/events/payment-processed.ts';
import type { SubscriptionCreatedData } from '../../domain/events/subscription-created.ts';
import type { SubscriptionRenewedData } from '../../domain/events/subscription-renewed.ts';
import { periodAt } from '../../domain/subscription/period.ts';
import type { Sql } from '../../kernel/db/database.ts';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';
import type { EventStore } from '../../kernel/store/event-store.ts';
import type { PlanLookup } from './plans.ts';
import { customerStream, paymentStream, subscriptionStream } from '../../services/streams.ts';

/** What a charge paid for: the invoice's line item and the service period revenue is recognised over. */
export interface PaidFor {
  planId: string;
  planName: string;
  periodIndex: number;
  period: Period;
}

/** The plan or the service period of a charge cannot be known (e.g. a plan no longer in the catalog): retried, then dead-lettered. */
export class ServiceUnknownError extends Error {
  override readonly name = 'ServiceUnknownError';
}

export interface PaidForDeps {
  store: EventStore;
  plans: PlanLookup;
}

const planName = async (deps: PaidForDeps, planId: string) => (await deps.plans(planId))?.name ?? planId;

/** A renewal's plan and period, as the subscription recorded them. */
export async function paidForRenewal(deps: PaidForDeps, renewal: SubscriptionRenewedData): Promise<PaidFor> {
  return {
    planId: renewal.planId,
    planName: await planName(deps, renewal.planId),
    periodIndex: renewal.periodIndex,
    period: renewal.period,
  };
}

/**
 * What a payment paid for. A renewal's period is on its SubscriptionRenewed (appended in the same
 * transaction as the payment, so it is always there). A registration's subscription is created
 * only after the charge, by the next saga step, so its first period is reckoned from the charge:
 * the plan the customer chose (CustomerCreated, written before the charge) for one interval from
 * `processedAt`. The saga starts the subscription right after the charge, at the same clock
 * reading in test mode and milliseconds later otherwise; deriving it from the payment keeps the
 * invoice and the ledger deterministic, whichever event arrives first, and equal to the receipt.
 */
export async function paidFor(
  deps: PaidForDeps,
  tx: Sql,
  payment: PaymentProcessedData,
  streams?: Streams,
): Promise<PaidFor> {
  const read = (streamId: string) => streams?.get(streamId) ?? deps.store.readStream(streamId, { tx });
  if (payment.subscriptionId) {
    const events = await read(subscriptionStream(payment.subscriptionId));
    const renewal = events.find(
      (event) =>
        event.type === 'SubscriptionRenewed' && (event.data as SubscriptionRenewedData).paymentId === payment.paymentId,
    );
    if (renewal) return paidForRenewal(deps, renewal.data as SubscriptionRenewedData);
    const created = events.find((event) => event.type === 'SubscriptionCreated')?.data as
      SubscriptionCreatedData | undefined;
    if (!created)
      throw new ServiceUnknownError(
        `payment ${payment.paymentId}: subscription ${payment.subscriptionId} is not recorded`,
      );
    const periodIndex = payment.periodIndex ?? 0;
    return {
      planId: created.planId,
      planName: await planName(deps, created.planId),
      periodIndex,
      period: periodAt(created.currentPeriod.start, created.interval, periodIndex),
    };
  }
  const customer = await read(customerStream(payment.customerId));
  const created = customer.find((event) => event.type === 'CustomerCreated')?.data as CustomerCreatedData | undefined;
  if (!created)
    throw new ServiceUnknownError(`payment ${payment.paymentId}: customer ${payment.customerId} is not recorded`);
  const plan = await deps.plans(created.planId);
  if (!plan)
    throw new ServiceUnknownError(`payment ${payment.paymentId}: plan ${created.planId} is not in the catalog`);
  return {
    planId: plan.id,
    planName: plan.name,
    periodIndex: 0,
    period: periodAt(payment.processedAt, plan.interval, 0),
  };
}

/** Streams already read for a batch (`EventStore.readStreams`), by stream id. */
export type Streams = ReadonlyMap<string, RecordedEvent[]>;

/** The streams `paidFor` reads for a payment, to read a batch's in one query. */
export const streamsOfPayment = (payment: PaymentProcessedData): string =>
  payment.subscriptionId ? subscriptionStream(payment.subscriptionId) : customerStream(payment.customerId);

/** The PaymentProcessed of a payment, from its stream (for an event that refers to it). */
export async function findCharge(
  store: EventStore,
  tx: Sql,
  paymentId: string,
  streams?: Streams,
): Promise<RecordedEvent<PaymentProcessedData> | undefined> {
  const events = streams?.get(paymentStream(paymentId)) ?? (await store.readStream(paymentStream(paymentId), { tx }));
  return events.find((event) => event.type === 'PaymentProcessed') as RecordedEvent<PaymentProcessedData> | undefined;
}
