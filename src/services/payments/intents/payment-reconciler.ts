import { Gauge } from 'prom-client';
import type { Logger } from '../../../kernel/logger.ts';
import { registry } from '../../../kernel/metrics.ts';
import { safetyPollMs, startDueLoop } from '../../../kernel/due-loop.ts';
import type { AppendSignal } from '../../../kernel/store/append-signal.ts';
import { chargeResultOf, type ChargeResult } from '../gateway/index.ts';
import { findIntent, intentOf, type IntentStatus, type StoredIntent } from './payment-intent.ts';
import type { SagaOrchestrator } from '../../../kernel/saga/saga-orchestrator.ts';
import { REFUND_WORKFLOW, refundStateOf, refundWorkflowId } from '../refund-workflow.ts';
import type { RefundDeps } from './refund-intent.ts';

const HOUR_MS = 3_600_000;

export const intentsOpen = new Gauge({
  name: 'tributary_payment_intents_open',
  help: 'Payment intents without a final outcome: pending (no answer recorded) or refund_due (a refund still to make)',
  labelNames: ['status'],
  registers: [registry],
});

/**
 * What the flow that made a charge does with its outcome, found by the reconciler: record it and
 * go on (a renewal still due), or `refund_due` when the flow can no longer use it (it was
 * cancelled, it compensated). Null: the flow is still running and will record it itself.
 */
export type FlowSettler = (intent: StoredIntent, result: ChargeResult) => Promise<IntentStatus | null>;

export interface PaymentReconcilerDeps extends RefundDeps {
  log: Logger;
  /** An intent pending longer than this is a call whose answer was lost. */
  windowMs: number;
  settlers: Partial<Record<StoredIntent['flowType'], FlowSettler>>;
  /** Where refunds run, each as a workflow of its own. */
  sagas: SagaOrchestrator;
}

/** Seconds to hours, without end: an intent whose settling keeps failing is tried again, never dropped. */
const settleBackoffMs = (attempts: number): number => Math.min(6 * HOUR_MS, 1_000 * 2 ** Math.min(attempts, 30));

/**
 * Settles intents left without an outcome (a process died between the charge and its record, a
 * step timed out, an abandoned attempt landed late) with the gateway's `retrieve`, and makes the
 * refunds that are due. Several processes may run it: intents are claimed with SKIP LOCKED.
 */
export class PaymentReconciler {
  private stopLoop: (() => Promise<void>) | undefined;

  constructor(private readonly deps: PaymentReconcilerDeps) {}

  /**
   * Hands a charge its flow cannot use to a refund workflow (it runs on in the background, and
   * parks and retries when the gateway refuses); the intent is no longer due here once it is.
   */
  async refund(intent: StoredIntent): Promise<void> {
    await this.deps.sagas.launch(REFUND_WORKFLOW, refundWorkflowId(intent), refundStateOf(intent));
    await this.deps.db.query(
      `update payment_intents set next_attempt_at = null where idempotency_key = $1 and status = 'refund_due'`,
      [intent.idempotencyKey],
    );
  }

  /** One pass over the intents due; resolves to the milliseconds until the next one is due (null: none open). */
  async runOnce(): Promise<number | null> {
    const { db, windowMs } = this.deps;
    const { rows } = await db.query<Parameters<typeof intentOf>[0]>(
      `with due as (
         select idempotency_key from payment_intents
         where (status = 'pending' and created_at < clock_timestamp() - $1 * interval '1 millisecond'
                and coalesce(next_attempt_at, created_at) <= clock_timestamp())
            or (status = 'refund_due' and next_attempt_at <= clock_timestamp())
         order by next_attempt_at nulls first
         limit 20
         for update skip locked
       )
       update payment_intents p set next_attempt_at = clock_timestamp() + interval '1 minute'
       from due where p.idempotency_key = due.idempotency_key
       returning p.*`,
      [windowMs],
    );
    for (const row of rows) {
      const intent = intentOf(row);
      try {
        if (intent.status === 'refund_due') await this.refund(intent);
        else await this.settlePending(intent);
      } catch (error) {
        await this.failed(intent, error);
      }
    }
    return this.sample();
  }

  /**
   * Runs passes while the process lives: at most every second, and otherwise when the next open
   * intent falls due or an append (a charge recorded, a flow ended) wakes it, with a safety poll
   * as long as the window (an intent opened meanwhile is due no sooner) and at most the database's.
   */
  start(appended: AppendSignal): void {
    this.stopLoop ??= startDueLoop({
      name: 'payment reconciler',
      run: () => this.runOnce(),
      appended,
      minGapMs: 1_000,
      maxSleepMs: Math.min(safetyPollMs(this.deps.db), Math.max(1_000, this.deps.windowMs)),
      log: this.deps.log,
    });
  }

  async stop(): Promise<void> {
    await this.stopLoop?.();
    this.stopLoop = undefined;
  }

  private async settlePending(intent: StoredIntent): Promise<void> {
    const { gateway, db, log } = this.deps;
    const charge = await gateway.retrieve(intent.idempotencyKey);
    if (!charge) {
      // An attempt may still be in flight and land late: look again, less and less often, for a
      // day; only then is it void (nothing charged; a later retry with the key charges afresh).
      await db.query(
        `update payment_intents set attempts = attempts + 1,
           status = case when created_at < clock_timestamp() - interval '1 day' then 'void' else status end,
           next_attempt_at = clock_timestamp() + least(interval '1 hour', interval '1 second' * power(2, least(attempts, 20)))
         where idempotency_key = $1`,
        [intent.idempotencyKey],
      );
      return;
    }
    const settler = this.deps.settlers[intent.flowType];
    if (!settler) throw new Error(`no settler for ${intent.flowType} payment intents`);
    const status = await settler(intent, chargeResultOf(charge));
    if (status === null) {
      // Its flow still runs and records it itself; should the flow fail without doing so, look
      // again after the window, not after the claim's minute.
      await db.query(
        `update payment_intents set next_attempt_at = clock_timestamp() + $2 * interval '1 millisecond'
         where idempotency_key = $1 and status = 'pending'`,
        [intent.idempotencyKey, this.deps.windowMs],
      );
      return;
    }
    log.warn(
      { idempotencyKey: intent.idempotencyKey, flow: intent.flowType, status },
      'payment reconciler: settled an intent left without an outcome',
    );
    const settled = status === 'refund_due' ? await findIntent(db, intent.idempotencyKey) : null;
    if (settled) await this.refund(settled);
  }

  private async failed(intent: StoredIntent, error: unknown): Promise<void> {
    const { db, log } = this.deps;
    const message = error instanceof Error ? error.message : String(error);
    const attempts = intent.attempts + 1;
    const retryInMs = settleBackoffMs(attempts);
    log.error(
      { idempotencyKey: intent.idempotencyKey, status: intent.status, attempts, retryInMs, err: error },
      'payment intent: settling failed; retrying later',
    );
    await db.query(
      `update payment_intents set attempts = $2, last_error = $3, next_attempt_at = clock_timestamp() + $4 * interval '1 millisecond' where idempotency_key = $1`,
      [intent.idempotencyKey, attempts, message.slice(0, 1000), retryInMs],
    );
  }

  /**
   * The open intents, read from the store (so the gauge survives restarts and falls when they
   * settle); resolves to the milliseconds until the first of them is due (null: none).
   */
  private async sample(): Promise<number | null> {
    const { rows } = await this.deps.db.query<{ status: string; n: string; due_in_ms: string | number | null }>(
      `select status, count(*) as n,
         extract(epoch from min(case when status = 'pending'
           then greatest(created_at + $1 * interval '1 millisecond', coalesce(next_attempt_at, created_at))
           else next_attempt_at end) - clock_timestamp()) * 1000 as due_in_ms
       from payment_intents where status in ('pending', 'refund_due') group by status`,
      [this.deps.windowMs],
    );
    intentsOpen.reset();
    for (const status of ['pending', 'refund_due'])
      intentsOpen.set({ status }, Number(rows.find((row) => row.status === status)?.n ?? 0));
    const due = rows.filter((row) => row.due_in_ms !== null).map((row) => Math.max(0, Number(row.due_in_ms)));
    return due.length > 0 ? Math.min(...due) : null;
  }
}
