/** One broken money invariant: a stable `kind`, a sentence for a person, and the ids to look at. */
export interface Violation {
  kind: ViolationKind;
  message: string;
  chargeId?: string;
  paymentId?: string;
  customerId?: string;
  subscriptionId?: string;
  registrationId?: string;
  idempotencyKey?: string;
  currency?: string;
}

export type ViolationKind =
  | 'charge_unrecorded'
  | 'charge_recorded_twice'
  | 'payment_without_charge'
  | 'charge_unsettled'
  | 'refund_unrecorded'
  | 'refund_not_at_gateway'
  | 'refund_not_reversed'
  | 'renewal_after_cancellation'
  | 'ledger_unbalanced'
  | 'registration_unfinished'
  | 'customer_not_deleted'
  | 'intent_unsettled';

export interface VerifyReport {
  ok: boolean;
  checkedAt: string;
  violations: Violation[];
}
