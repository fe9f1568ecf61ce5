import { createHash } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import type { SagaDefinition, StepResult } from '../../kernel/saga/saga.ts';
import { findIntent, type StoredIntent } from './intents/payment-intent.ts';
import { refundIntent, type RefundDeps } from './intents/refund-intent.ts';

export const REFUND_WORKFLOW = 'refund';

/** The charge to give back, by its idempotency key (no personal data: the intent holds the rest). */
export interface RefundState {
  idempotencyKey: string;
  paymentId: string;
  customerId: string;
  subscriptionId?: string;
  /** The flow that charged it (registration, renewal) and why it cannot use it. */
  flowType: string;
  flowId: string;
}

/**
 * One refund workflow per charge: its id derives from the charge's key, so handing the same
 * charge over again joins it. Sorted like a UUIDv7 by the intent's creation.
 */
export const refundWorkflowId = (intent: StoredIntent): string =>
  uuidv7({
    msecs: intent.createdAt.getTime(),
    random: createHash('sha256').update(`${intent.idempotencyKey}:refund`).digest().subarray(0, 16),
  });

export const refundStateOf = (intent: StoredIntent): RefundState => {
  const { idempotencyKey, paymentId, customerId, subscriptionId, flowType, flowId } = intent;
  return { idempotencyKey, paymentId, customerId, ...(subscriptionId ? { subscriptionId } : {}), flowType, flowId };
};

/**
 * Gives back a charge its flow can no longer use (a cancellation raced a renewal, a registration
 * compensated), as a workflow: the gateway's refund (its own idempotency key, so a repeat refunds
 * nothing twice), then PaymentRefunded on the payment's stream, its history. A gateway that keeps
 * refusing parks it, and it is tried again on a growing backoff, without end; an operator sees it
 * in /admin/workflows and can retry it now.
 */
export function refundWorkflow(deps: RefundDeps): SagaDefinition<RefundState> {
  return {
    type: REFUND_WORKFLOW,
    steps: [
      {
        name: 'refund',
        local: false,
        timeoutMs: 15_000,
        retry: { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 2_000 },
        whenExhausted: 'park',
        async run({ sagaId, state }): Promise<StepResult<RefundState>> {
          const intent = await findIntent(deps.db, state.idempotencyKey);
          if (intent?.status !== 'refund_due') return { ok: {} }; // refunded (or settled) already
          if ((await refundIntent(deps, intent, `${REFUND_WORKFLOW}:${sagaId}`)) === 'not_at_gateway')
            throw new Error(`charge ${state.idempotencyKey} is not at the gateway (yet)`);
          return { ok: {} };
        },
      },
    ],
  };
}
