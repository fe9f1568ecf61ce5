import { ClockDrivenJob } from '../../kernel/clock-driven-job.ts';
import { Counter } from 'prom-client';
import type { Clock } from '../../kernel/clock.ts';
import type { Database } from '../../kernel/db/database.ts';
import type { Logger } from '../../kernel/logger.ts';
import { registry } from '../../kernel/metrics.ts';
import type { EventStore } from '../../kernel/store/event-store.ts';
import { subscriptionsOf } from '../../services/customers/erasure.ts';
import type { Eraser } from '../reaction-module.ts';
import { loadCustomer, loadSubscription } from '../../services/subscriptions/subscription-streams.ts';
import { subscriptionStream } from '../../services/streams.ts';
import { dueObligations, postpone, recordFinding, type FindingStatus, type Obligation } from './obligations.ts';

export const complianceViolations = new Counter({
  name: 'tributary_compliance_violations_total',
  help: 'Compliance obligations found violated when checked (no charge after a cancellation, cancellation on time, data retention)',
  labelNames: ['obligation'],
  registers: [registry],
});

export interface CheckDeps {
  db: Database;
  store: EventStore;
  clock: Clock;
  log: Logger;
  erase: Eraser;
  retentionDays: number;
}

type Outcome =
  | { status: FindingStatus; evidence: Record<string, unknown> }
  | { postponeTo: Date; evidence: Record<string, unknown> };

/** 1. No charge for the subscription after the cancellation's effectiveAt, read from the event store. */
async function noChargeAfter(deps: CheckDeps, obligation: Obligation): Promise<Outcome> {
  const { rows } = await deps.db.query<{
    event_id: string;
    data: { paymentId: string; amount: number; currency: string; processedAt: string };
    occurred_at: Date;
  }>(
    `select event_id, data, occurred_at from events
     where type = 'PaymentProcessed' and data->>'subscriptionId' = $1
       and greatest(occurred_at, (data->>'processedAt')::timestamptz) > $2::timestamptz
     order by position`,
    [obligation.subscriptionId, obligation.effectiveAt],
  );
  const charges = rows.map((row) => ({
    eventId: row.event_id,
    paymentId: row.data.paymentId,
    amount: row.data.amount,
    currency: row.data.currency,
    processedAt: row.data.processedAt,
    recordedAt: new Date(row.occurred_at).toISOString(),
  }));
  return {
    status: charges.length === 0 ? 'passed' : 'violated',
    evidence: { effectiveAt: obligation.effectiveAt, chargesAfterEffectiveAt: charges },
  };
}

/** 2. The cancellation took effect as promised: at once, or at the period end (SubscriptionEnded), and no renewal after it. */
async function tookEffect(deps: CheckDeps, obligation: Obligation): Promise<Outcome> {
  const events = await deps.store.readStream(subscriptionStream(obligation.subscriptionId!));
  const state = await loadSubscription(deps.store, obligation.subscriptionId!);
  const effective = Date.parse(obligation.effectiveAt);
  const renewals = events
    .filter(
      (event) =>
        event.type === 'SubscriptionRenewed' &&
        Date.parse((event.data as { period: { start: string } }).period.start) >= effective,
    )
    .map((event) => ({ eventId: event.id, period: (event.data as { period: unknown }).period }));
  const ended = events.find((event) => event.type === 'SubscriptionEnded');
  const endedAt = ended ? (ended.data as { endedAt: string }).endedAt : null;
  const status = state.status === 'none' ? 'none' : state.status;
  const over = status === 'cancelled' || (status === 'ended' && endedAt !== null && Date.parse(endedAt) <= effective);
  const evidence = {
    promised: obligation.atPeriodEnd ? 'at_period_end' : 'immediately',
    effectiveAt: obligation.effectiveAt,
    status,
    endedAt,
    renewalsAfterEffectiveAt: renewals,
  };
  return { status: over && renewals.length === 0 ? 'passed' : 'violated', evidence };
}

/** 3. Retention: once the customer has no active subscription, its personal data is erased after the period. */
async function retention(deps: CheckDeps, obligation: Obligation, now: Date): Promise<Outcome> {
  const active: string[] = [];
  for (const subscriptionId of await subscriptionsOf(deps.db, obligation.customerId)) {
    const subscription = await loadSubscription(deps.store, subscriptionId);
    if (subscription.status === 'active' || subscription.status === 'past_due') active.push(subscriptionId);
  }
  if (active.length > 0)
    return {
      postponeTo: new Date(now.getTime() + deps.retentionDays * 86_400_000),
      evidence: { activeSubscriptions: active },
    };
  const before = await loadCustomer(deps.store, obligation.customerId);
  const erased = await deps.erase(obligation.customerId, {
    actor: 'compliance-check',
    causationId: obligation.cancellationEventId,
  });
  const { rows } = await deps.db.query('select 1 from customer_keys where customer_id = $1', [obligation.customerId]);
  return {
    status: rows.length === 0 ? 'passed' : 'violated',
    evidence: {
      retainedUntil: obligation.dueAt,
      alreadyDeleted: before.status === 'deleted',
      keyDeleted: erased.keyDeleted,
      customerDeletedPosition: erased.deletedPosition,
      keyRemains: rows.length > 0,
    },
  };
}

/** Checks every obligation due by the clock; resolves to the number of findings recorded. */
export async function checkDue(deps: CheckDeps): Promise<number> {
  const now = deps.clock.now();
  let recorded = 0;
  for (const obligation of await dueObligations(deps.db, now)) {
    let outcome: Outcome;
    try {
      if (obligation.kind === 'no_charge_after_cancellation') outcome = await noChargeAfter(deps, obligation);
      else if (obligation.kind === 'cancellation_took_effect') outcome = await tookEffect(deps, obligation);
      else outcome = await retention(deps, obligation, now);
    } catch (error) {
      deps.log.error({ err: error, obligation: obligation.id }, 'compliance check failed; retrying at the next run');
      continue;
    }
    if ('postponeTo' in outcome) {
      await postpone(deps.db, obligation.id, outcome.postponeTo);
      continue;
    }
    if (await recordFinding(deps.db, obligation.id, outcome.status, outcome.evidence, now)) {
      recorded++;
      if (outcome.status === 'violated') {
        complianceViolations.inc({ obligation: obligation.kind });
        deps.log.warn(
          { obligation: obligation.id, kind: obligation.kind, evidence: outcome.evidence },
          'compliance violation',
        );
      }
    }
  }
  return recorded;
}

/** The checks, run by the platform clock and before `/compliance/findings` answers. */
export const complianceChecker = (deps: CheckDeps & { intervalMs: number }): ClockDrivenJob =>
  new ClockDrivenJob({
    name: 'compliance checks',
    intervalMs: deps.intervalMs,
    log: deps.log,
    run: () => checkDue(deps),
  });
