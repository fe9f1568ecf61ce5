import type { MoneyFacts, RecordedPayment } from './money-facts.ts';
import type { Violation } from './violation.ts';

const groupBy = <T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> => {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
};

/**
 * Every succeeded gateway charge has exactly one PaymentProcessed, and is either invoiced and
 * posted to the ledger or refunded and reversed; a refund is at the gateway, in the log and in the
 * ledger, or nowhere; and no PaymentProcessed names a charge the gateway did not make.
 */
export function chargeViolations(facts: MoneyFacts): Violation[] {
  const violations: Violation[] = [];
  const byCharge = groupBy(facts.payments, (payment) => payment.gatewayReference);
  const refunded = new Set(facts.refunds.map((refund) => refund.paymentId));
  const succeeded = facts.charges.filter((charge) => charge.status === 'succeeded');
  for (const charge of succeeded) {
    const ids = { chargeId: charge.chargeId, customerId: charge.customerId, idempotencyKey: charge.idempotencyKey };
    const recorded = byCharge.get(charge.chargeId) ?? [];
    if (recorded.length === 0) {
      const message = `gateway charge ${charge.chargeId} (${charge.amount} ${charge.currency}, ${charge.description}) has no PaymentProcessed`;
      violations.push({ kind: 'charge_unrecorded', message, ...ids });
      continue;
    }
    if (recorded.length > 1) {
      const payments = recorded.map((payment) => payment.paymentId).join(', ');
      violations.push({
        kind: 'charge_recorded_twice',
        message: `gateway charge ${charge.chargeId} is recorded by ${recorded.length} payments: ${payments}`,
        ...ids,
      });
      continue;
    }
    const { paymentId } = recorded[0]!;
    const posted = facts.postings.get(paymentId) ?? new Set<string>();
    const atGateway = charge.amountRefunded > 0;
    const inLog = refunded.has(paymentId);
    const withIds = { ...ids, paymentId };
    if (atGateway && !inLog) {
      violations.push({
        kind: 'refund_unrecorded',
        message: `charge ${charge.chargeId} was refunded at the gateway but payment ${paymentId} has no PaymentRefunded`,
        ...withIds,
      });
    }
    if (inLog && !atGateway) {
      violations.push({
        kind: 'refund_not_at_gateway',
        message: `payment ${paymentId} has a PaymentRefunded but charge ${charge.chargeId} was not refunded at the gateway`,
        ...withIds,
      });
    }
    if (inLog && !posted.has('refund')) {
      violations.push({
        kind: 'refund_not_reversed',
        message: `payment ${paymentId} was refunded but the ledger has no refund entry for it`,
        ...withIds,
      });
    }
    const invoicedAndPosted = facts.invoicedPayments.has(paymentId) && posted.has('charge') && posted.has('settlement');
    if (!invoicedAndPosted && !(atGateway && inLog && posted.has('refund'))) {
      const missing = [
        !facts.invoicedPayments.has(paymentId) && 'invoice',
        !posted.has('charge') && 'ledger charge entry',
        !posted.has('settlement') && 'ledger settlement entry',
      ].filter(Boolean);
      violations.push({
        kind: 'charge_unsettled',
        message: `payment ${paymentId} (charge ${charge.chargeId}) is neither invoiced and posted (no ${missing.join(', ')}) nor refunded and reversed`,
        ...withIds,
      });
    }
  }
  const known = new Set(succeeded.map((charge) => charge.chargeId));
  for (const payment of facts.payments) {
    if (known.has(payment.gatewayReference)) continue;
    violations.push({
      kind: 'payment_without_charge',
      message: `PaymentProcessed of payment ${payment.paymentId} names ${payment.gatewayReference}, which is no succeeded gateway charge`,
      paymentId: payment.paymentId,
      customerId: payment.customerId,
      chargeId: payment.gatewayReference,
    });
  }
  return violations;
}

/** No renewal is charged (and kept) at or after the moment a cancellation of its subscription took effect. */
export function renewalAfterCancellationViolations(facts: MoneyFacts): Violation[] {
  const effective = new Map<string, string>();
  for (const cancellation of facts.cancellations) {
    const earlier = effective.get(cancellation.subscriptionId);
    if (!earlier || cancellation.effectiveAt < earlier)
      effective.set(cancellation.subscriptionId, cancellation.effectiveAt);
  }
  const refunded = new Set(facts.refunds.map((refund) => refund.paymentId));
  const late = (payment: RecordedPayment) => {
    const at = payment.subscriptionId ? effective.get(payment.subscriptionId) : undefined;
    return (
      payment.purpose === 'renewal' &&
      at !== undefined &&
      Date.parse(payment.processedAt) >= Date.parse(at) &&
      !refunded.has(payment.paymentId)
    );
  };
  return facts.payments.filter(late).map((payment) => ({
    kind: 'renewal_after_cancellation' as const,
    message: `renewal payment ${payment.paymentId} of subscription ${payment.subscriptionId} was charged at ${payment.processedAt}, after its cancellation took effect at ${effective.get(payment.subscriptionId!)}, and not refunded`,
    paymentId: payment.paymentId,
    subscriptionId: payment.subscriptionId!,
    customerId: payment.customerId,
    chargeId: payment.gatewayReference,
  }));
}
