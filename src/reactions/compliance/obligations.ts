import type { SubscriptionCancelledData } from '../../domain/events/subscription-cancelled.ts';
import type { Sql } from '../../kernel/db/database.ts';

export type ObligationKind = 'no_charge_after_cancellation' | 'cancellation_took_effect' | 'data_retention';
export type FindingStatus = 'passed' | 'violated';

export interface Obligation {
  id: string;
  kind: ObligationKind;
  customerId: string;
  subscriptionId: string | null;
  cancellationEventId: string;
  effectiveAt: string;
  atPeriodEnd: boolean;
  dueAt: string;
}

export interface Finding extends Obligation {
  status: 'pending' | FindingStatus;
  checkedAt: string | null;
  evidence: Record<string, unknown> | null;
}

interface Row {
  id: string;
  kind: ObligationKind;
  customer_id: string;
  subscription_id: string | null;
  cancellation_event_id: string;
  effective_at: Date;
  at_period_end: boolean;
  due_at: Date;
  status: Finding['status'];
  checked_at: Date | null;
  evidence: Record<string, unknown> | null;
}

const toFinding = (row: Row): Finding => ({
  id: row.id,
  kind: row.kind,
  customerId: row.customer_id,
  subscriptionId: row.subscription_id,
  cancellationEventId: row.cancellation_event_id,
  effectiveAt: new Date(row.effective_at).toISOString(),
  atPeriodEnd: row.at_period_end,
  dueAt: new Date(row.due_at).toISOString(),
  status: row.status,
  checkedAt: row.checked_at ? new Date(row.checked_at).toISOString() : null,
  evidence: row.evidence,
});

const HOUR = 3_600_000;

/** A cancellation event: its id and data. */
export interface Cancellation {
  eventId: string;
  data: SubscriptionCancelledData;
}

/**
 * The obligations cancellations create (delivery order), recorded once per cancellation event (a
 * redelivery changes nothing), in two statements whatever their number. Retention is one
 * obligation per customer: a later cancellation moves its due date (and reopens it if an earlier
 * one found the customer still subscribed). Of a customer's cancellations in one call only the
 * first with the latest due date is written: one after the other they would leave the same row
 * (each moves the date only forward, none of them checks it), and one statement cannot upsert a
 * row twice.
 */
export async function recordObligations(
  tx: Sql,
  cancellations: readonly Cancellation[],
  policy: { graceHours: number; retentionDays: number },
): Promise<void> {
  if (cancellations.length === 0) return;
  const checks = cancellations.flatMap(({ eventId, data }) => {
    const checkAt = new Date(Date.parse(data.effectiveAt) + policy.graceHours * HOUR).toISOString();
    return (['no_charge_after_cancellation', 'cancellation_took_effect'] as const).map((kind) => ({
      id: `${eventId}:${kind}`,
      kind,
      eventId,
      data,
      dueAt: checkAt,
    }));
  });
  const retention = new Map<string, { id: string; eventId: string; data: SubscriptionCancelledData; dueAt: number }>();
  for (const { eventId, data } of cancellations) {
    const dueAt = Date.parse(data.effectiveAt) + policy.retentionDays * 24 * HOUR;
    const kept = retention.get(data.customerId);
    if (!kept || kept.dueAt < dueAt)
      retention.set(data.customerId, { id: `retention:${data.customerId}`, eventId, data, dueAt });
  }
  const columns = (rows: readonly { id: string; eventId: string; data: SubscriptionCancelledData }[]) => [
    rows.map((row) => row.id),
    rows.map((row) => row.data.customerId),
    rows.map((row) => row.data.subscriptionId),
    rows.map((row) => row.eventId),
    rows.map((row) => row.data.effectiveAt),
    rows.map((row) => row.data.atPeriodEnd),
  ];
  await tx.query(
    `insert into compliance_obligations (id, customer_id, subscription_id, cancellation_event_id, effective_at, at_period_end, kind, due_at)
     select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::bool[], $7::text[], $8::timestamptz[])
     on conflict (id) do nothing`,
    [...columns(checks), checks.map((check) => check.kind), checks.map((check) => check.dueAt)],
  );
  const retained = [...retention.values()];
  await tx.query(
    `insert into compliance_obligations (id, customer_id, subscription_id, cancellation_event_id, effective_at, at_period_end, kind, due_at)
     select id, customer_id, subscription_id, event_id, effective_at, at_period_end, 'data_retention', due_at
     from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::bool[], $7::timestamptz[])
       as t (id, customer_id, subscription_id, event_id, effective_at, at_period_end, due_at)
     on conflict (id) do update set
       subscription_id = excluded.subscription_id, cancellation_event_id = excluded.cancellation_event_id,
       effective_at = excluded.effective_at, at_period_end = excluded.at_period_end, due_at = excluded.due_at,
       status = 'pending', checked_at = null, evidence = null
     where compliance_obligations.status <> 'passed' and compliance_obligations.due_at < excluded.due_at`,
    [...columns(retained), retained.map((row) => new Date(row.dueAt).toISOString())],
  );
}

/** The pending obligations due by `now`, oldest first. */
export async function dueObligations(sql: Sql, now: Date, limit = 200): Promise<Obligation[]> {
  const { rows } = await sql.query<Row>(
    `select * from compliance_obligations where status = 'pending' and due_at <= $1 order by due_at, id limit $2`,
    [now.toISOString(), limit],
  );
  return rows.map(toFinding);
}

/** Records a check's outcome; false when another run recorded it first. */
export async function recordFinding(
  sql: Sql,
  id: string,
  status: FindingStatus,
  evidence: Record<string, unknown>,
  checkedAt: Date,
): Promise<boolean> {
  const { rowCount } = await sql.query(
    `update compliance_obligations set status = $2, evidence = $3, checked_at = $4 where id = $1 and status = 'pending'`,
    [id, status, JSON.stringify(evidence), checkedAt.toISOString()],
  );
  return rowCount > 0;
}

/** A retention obligation that is not due yet (the customer is still subscribed): checked again later. */
export async function postpone(sql: Sql, id: string, dueAt: Date): Promise<void> {
  await sql.query(`update compliance_obligations set due_at = $2 where id = $1 and status = 'pending'`, [
    id,
    dueAt.toISOString(),
  ]);
}

export interface FindingQuery {
  status?: Finding['status'];
  kind?: ObligationKind;
  customerId?: string;
  subscriptionId?: string;
  limit: number;
}

export async function listFindings(sql: Sql, query: FindingQuery): Promise<Finding[]> {
  const { rows } = await sql.query<Row>(
    `select * from compliance_obligations
     where ($1::text is null or status = $1) and ($2::text is null or kind = $2) and ($3::text is null or customer_id = $3) and ($4::text is null or subscription_id = $4)
     order by due_at desc, id limit $5`,
    [query.status ?? null, query.kind ?? null, query.customerId ?? null, query.subscriptionId ?? null, query.limit],
  );
  return rows.map(toFinding);
}
