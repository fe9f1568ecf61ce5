import type { Period } from '../../../domain/events/common.ts';
import type { Database, Sql } from '../../../kernel/db/database.ts';
import { ACCOUNTS } from './accounts.ts';
import { credit, debit, postEntries, type JournalEntry } from './journal.ts';
import {
  dailyAmounts,
  dayEnd,
  daysEnded,
  daysOf,
  recognisedBy,
  type RefundBasis,
  type Span,
  type StraightLine,
} from './recognition.ts';

/** A charge's revenue still to recognise (a row of revenue_schedules). */
export interface Schedule {
  paymentId: string;
  chargeEventId: string;
  customerId: string;
  currency: string;
  gross: number;
  tax: number;
  amount: number;
  period: Span;
  days: number;
  recognised: number;
  released: number;
  refunded: number;
  refundedTax: number;
  throughDay: number;
  anchorDay: number;
  anchorRecognised: number;
  anchorDeferred: number;
}

interface ScheduleRow {
  payment_id: string;
  charge_event_id: string;
  customer_id: string;
  currency: string;
  gross: number;
  tax: number;
  amount: number;
  period_start: Date;
  period_end: Date;
  days: number;
  recognised: number;
  released: number;
  refunded: number;
  refunded_tax: number;
  through_day: number;
  anchor_day: number;
  anchor_recognised: number;
  anchor_deferred: number;
}

const COLUMNS = `payment_id, charge_event_id, customer_id, currency, gross::int8 as gross, tax::int8 as tax, amount::int8 as amount, period_start, period_end, days,
  recognised::int8 as recognised, released::int8 as released, refunded::int8 as refunded, refunded_tax::int8 as refunded_tax, through_day, anchor_day,
  anchor_recognised::int8 as anchor_recognised, anchor_deferred::int8 as anchor_deferred`;

const fromRow = (row: ScheduleRow): Schedule => ({
  paymentId: row.payment_id,
  chargeEventId: row.charge_event_id,
  customerId: row.customer_id,
  currency: row.currency,
  gross: Number(row.gross),
  tax: Number(row.tax),
  amount: Number(row.amount),
  period: { start: row.period_start, end: row.period_end },
  days: row.days,
  recognised: Number(row.recognised),
  released: Number(row.released),
  refunded: Number(row.refunded),
  refundedTax: Number(row.refunded_tax),
  throughDay: row.through_day,
  anchorDay: row.anchor_day,
  anchorRecognised: Number(row.anchor_recognised),
  anchorDeferred: Number(row.anchor_deferred),
});

const lineOf = (schedule: Schedule): StraightLine => ({
  days: schedule.days,
  anchorDay: schedule.anchorDay,
  anchorRecognised: schedule.anchorRecognised,
  anchorDeferred: schedule.anchorDeferred,
});

export const deferredOf = (schedule: Schedule) => schedule.amount - schedule.recognised - schedule.released;

export const basisOf = (schedule: Schedule): RefundBasis => ({
  gross: schedule.gross,
  tax: schedule.tax,
  amount: schedule.amount,
  recognised: schedule.recognised,
  released: schedule.released,
  refunded: schedule.refunded,
  refundedTax: schedule.refundedTax,
});

/** When the schedule next has a day to recognise, or null when nothing is left. */
const nextDue = (schedule: Schedule): Date | null =>
  deferredOf(schedule) > 0 && schedule.throughDay < schedule.days
    ? dayEnd(schedule.period, schedule.throughDay + 1)
    : null;

/** Starts recognising a charge's net amount over its service period (once per payment). */
export type NewSchedule = {
  paymentId: string;
  chargeEventId: string;
  customerId: string;
  currency: string;
  gross: number;
  tax: number;
  amount: number;
  period: Period;
};

export async function openSchedule(tx: Sql, charge: NewSchedule): Promise<void> {
  await openSchedules(tx, [charge]);
}

/** `openSchedule` for several charges in one statement. */
export async function openSchedules(tx: Sql, charges: readonly NewSchedule[]): Promise<void> {
  if (charges.length === 0) return;
  const rows = charges.map((charge) => {
    const period = { start: new Date(charge.period.start), end: new Date(charge.period.end) };
    return {
      ...charge,
      start: period.start.toISOString(),
      end: period.end.toISOString(),
      days: daysOf(period),
      next: charge.amount > 0 ? dayEnd(period, 1).toISOString() : null,
    };
  });
  const column = <T>(value: (row: (typeof rows)[number]) => T) => rows.map(value);
  await tx.query(
    `insert into revenue_schedules (payment_id, charge_event_id, customer_id, currency, gross, tax, amount, period_start, period_end, days, anchor_deferred, next_due_at)
     select s.payment_id, s.charge_event_id, s.customer_id, s.currency, s.gross, s.tax, s.amount, s.period_start, s.period_end, s.days, s.amount, s.next_due_at
     from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::int8[], $6::int8[], $7::int8[], $8::timestamptz[], $9::timestamptz[], $10::int4[], $11::timestamptz[])
       as s(payment_id, charge_event_id, customer_id, currency, gross, tax, amount, period_start, period_end, days, next_due_at)
     on conflict (payment_id) do nothing`,
    [
      column((row) => row.paymentId),
      column((row) => row.chargeEventId),
      column((row) => row.customerId),
      column((row) => row.currency),
      column((row) => row.gross),
      column((row) => row.tax),
      column((row) => row.amount),
      column((row) => row.start),
      column((row) => row.end),
      column((row) => row.days),
      column((row) => row.next),
    ],
  );
}

/** The schedule of a payment, locked for this transaction (waiting for another holder, or skipping it). */
export async function lockSchedule(
  tx: Sql,
  paymentId: string,
  options: { skipLocked?: boolean; dueBy?: Date } = {},
): Promise<Schedule | null> {
  const params: unknown[] = [paymentId];
  const due = options.dueBy ? `and next_due_at <= $${params.push(options.dueBy)}` : '';
  const { rows } = await tx.query<ScheduleRow>(
    `select ${COLUMNS} from revenue_schedules where payment_id = $1 ${due} for update ${options.skipLocked ? 'skip locked' : ''}`,
    params,
  );
  return rows[0] ? fromRow(rows[0]) : null;
}

async function save(tx: Sql, schedule: Schedule): Promise<void> {
  await tx.query(
    `update revenue_schedules set recognised = $2, released = $3, refunded = $4, refunded_tax = $5, through_day = $6,
       anchor_day = $7, anchor_recognised = $8, anchor_deferred = $9, next_due_at = $10
     where payment_id = $1`,
    [
      schedule.paymentId,
      schedule.recognised,
      schedule.released,
      schedule.refunded,
      schedule.refundedTax,
      schedule.throughDay,
      schedule.anchorDay,
      schedule.anchorRecognised,
      schedule.anchorDeferred,
      nextDue(schedule),
    ],
  );
}

/**
 * Posts one entry per day of the service period ended by `at` and not yet recognised
 * (Dr Deferred Revenue / Cr Revenue), dated the end of that day, and moves the schedule on.
 * The caller holds the schedule's lock.
 */
export async function recogniseThrough(tx: Sql, schedule: Schedule, at: Date, postedAt: Date): Promise<Schedule> {
  const toDay = daysEnded(schedule.period, at);
  if (toDay <= schedule.throughDay) return schedule;
  const line = lineOf(schedule);
  const entries: JournalEntry[] = dailyAmounts(line, schedule.throughDay, toDay).map(({ day, amount }) => ({
    sourceId: schedule.chargeEventId,
    kind: 'recognition',
    part: day,
    paymentId: schedule.paymentId,
    customerId: schedule.customerId,
    currency: schedule.currency,
    description: `Revenue recognised, day ${day} of ${schedule.days}`,
    effectiveAt: dayEnd(schedule.period, day),
    lines: [debit(ACCOUNTS.deferredRevenue, amount), credit(ACCOUNTS.revenue, amount)],
  }));
  await postEntries(tx, entries, postedAt);
  const moved = { ...schedule, throughDay: toDay, recognised: recognisedBy(line, toDay) };
  await save(tx, moved);
  return moved;
}

/** After a refund: what it took out, and the line re-anchored on what is left deferred. */
export async function applyRefund(
  tx: Sql,
  schedule: Schedule,
  refund: { gross: number; tax: number; deferred: number },
): Promise<Schedule> {
  const released = schedule.released + refund.deferred;
  const next: Schedule = {
    ...schedule,
    released,
    refunded: schedule.refunded + refund.gross,
    refundedTax: schedule.refundedTax + refund.tax,
    anchorDay: schedule.throughDay,
    anchorRecognised: schedule.recognised,
    anchorDeferred: schedule.amount - schedule.recognised - released,
  };
  await save(tx, next);
  return next;
}

/**
 * Recognises every day ended by `at` on every schedule, one transaction per schedule. A schedule
 * locked elsewhere (a refund being posted, another process's run) is skipped: the next run gets it.
 */
export async function recogniseDue(db: Database, at: Date, postedAt: Date, batch = 200): Promise<number> {
  let posted = 0;
  for (;;) {
    const { rows } = await db.query<{ payment_id: string }>(
      'select payment_id from revenue_schedules where next_due_at <= $1 order by next_due_at, payment_id limit $2',
      [at, batch],
    );
    let moved = 0;
    for (const { payment_id: paymentId } of rows) {
      moved += await db.transaction(async (tx) => {
        const schedule = await lockSchedule(tx, paymentId, { skipLocked: true, dueBy: at });
        if (!schedule) return 0;
        const after = await recogniseThrough(tx, schedule, at, postedAt);
        posted += after.throughDay - schedule.throughDay;
        return after.throughDay > schedule.throughDay ? 1 : 0;
      });
    }
    if (rows.length < batch || moved === 0) return posted;
  }
}
