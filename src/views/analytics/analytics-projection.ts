import { defineProjection, type ProjectionDefinition } from '../../kernel/projections/projection.ts';
import { ANALYTICS_EVENT_TYPES, foldAnalyticsBatch } from './analytics-batch.ts';

export const ANALYTICS_SCHEMA = 'analytics_view';

/** A subscription row a statement wrote; `moves`: it joined (insert) or left (update) the active ones. */
interface WrittenRow {
  plan_id: string;
  currency: string;
  mrr: string | number;
  moves: boolean;
}

/** Changes to the active subscriptions per plan and currency, summed over a batch. */
class ActiveTotals {
  private readonly totals = new Map<
    string,
    { plan_id: string; currency: string; subscriptions: number; mrr: number }
  >();

  get size(): number {
    return this.totals.size;
  }

  add(row: WrittenRow, sign: 1 | -1): void {
    const key = `${row.plan_id}|${row.currency}`;
    const total = this.totals.get(key) ?? { plan_id: row.plan_id, currency: row.currency, subscriptions: 0, mrr: 0 };
    total.subscriptions += sign;
    total.mrr += sign * Number(row.mrr);
    this.totals.set(key, total);
  }

  rows() {
    return [...this.totals.values()];
  }
}

/**
 * The current state the analytics summary needs, exact at a store position: every subscription
 * (plan, currency, MRR contribution, start, first cancellation request, end), signups per day and
 * net revenue per day and currency. Each batch is folded in memory and written with one
 * statement per table (rows passed as one JSON parameter), so a rebuild is not one round trip per event.
 */
export const analyticsProjection = (): ProjectionDefinition =>
  defineProjection({
    name: 'analytics',
    schema: ANALYTICS_SCHEMA,
    version: 2,
    types: ANALYTICS_EVENT_TYPES,
    tables: (schema) => /* sql */ `
      create table if not exists ${schema}.subscriptions (
        subscription_id text primary key,
        customer_id text not null,
        plan_id text not null,
        currency text not null,
        mrr bigint not null,
        started_at timestamptz not null,
        cancel_requested_at timestamptz,
        -- null while active: set by SubscriptionEnded or a cancellation taking effect at once
        ended_at timestamptz
      );
      create index if not exists subscriptions_started on ${schema}.subscriptions (started_at);
      create index if not exists subscriptions_ended on ${schema}.subscriptions (ended_at) where ended_at is not null;
      create index if not exists subscriptions_cancel_requested on ${schema}.subscriptions (cancel_requested_at) where cancel_requested_at is not null;
      -- the active subscriptions per plan and currency, kept in step so the summary reads a few rows
      create table if not exists ${schema}.active_totals (
        plan_id text not null,
        currency text not null,
        subscriptions integer not null,
        mrr bigint not null,
        primary key (plan_id, currency)
      );
      create table if not exists ${schema}.daily_signups (
        day date primary key,
        signups integer not null
      );
      create table if not exists ${schema}.daily_revenue (
        day date not null,
        currency text not null,
        -- captured minus refunded, in minor units
        amount bigint not null,
        primary key (day, currency)
      );
    `,
    async apply(events, { tx, schema }) {
      const batch = foldAnalyticsBatch(events);
      const totals = new ActiveTotals();
      if (batch.created.length) {
        const { rows } = await tx.query<WrittenRow>(
          `insert into ${schema}.subscriptions
           select * from jsonb_to_recordset($1::jsonb) as x(subscription_id text, customer_id text, plan_id text, currency text, mrr bigint, started_at timestamptz, cancel_requested_at timestamptz, ended_at timestamptz)
           on conflict (subscription_id) do nothing
           returning plan_id, currency, mrr, ended_at is null as moves`,
          [JSON.stringify(batch.created)],
        );
        for (const row of rows) if (row.moves) totals.add(row, 1);
      }
      if (batch.changed.length) {
        // The CTE sees the rows as they were before this statement: what ends now leaves the totals.
        const { rows } = await tx.query<WrittenRow>(
          `with x as (select * from jsonb_to_recordset($1::jsonb) as x(subscription_id text, cancel_requested_at timestamptz, ended_at timestamptz)),
                before as (select s.subscription_id, s.ended_at is not null as ended from ${schema}.subscriptions s join x using (subscription_id))
           update ${schema}.subscriptions s
           set cancel_requested_at = least(s.cancel_requested_at, x.cancel_requested_at), ended_at = least(s.ended_at, x.ended_at)
           from x join before using (subscription_id)
           where s.subscription_id = x.subscription_id
           returning s.plan_id, s.currency, s.mrr, not before.ended and s.ended_at is not null as moves`,
          [JSON.stringify(batch.changed)],
        );
        for (const row of rows) if (row.moves) totals.add(row, -1);
      }
      if (totals.size) {
        await tx.query(
          `insert into ${schema}.active_totals (plan_id, currency, subscriptions, mrr)
           select plan_id, currency, subscriptions, mrr from jsonb_to_recordset($1::jsonb) as x(plan_id text, currency text, subscriptions integer, mrr bigint)
           on conflict (plan_id, currency) do update
           set subscriptions = active_totals.subscriptions + excluded.subscriptions, mrr = active_totals.mrr + excluded.mrr`,
          [JSON.stringify(totals.rows())],
        );
      }
      if (batch.signups.length) {
        await tx.query(
          `insert into ${schema}.daily_signups (day, signups)
           select day, signups from jsonb_to_recordset($1::jsonb) as x(day date, signups integer)
           on conflict (day) do update set signups = daily_signups.signups + excluded.signups`,
          [JSON.stringify(batch.signups)],
        );
      }
      if (batch.revenue.length) {
        await tx.query(
          `insert into ${schema}.daily_revenue (day, currency, amount)
           select day, currency, amount from jsonb_to_recordset($1::jsonb) as x(day date, currency text, amount bigint)
           on conflict (day, currency) do update set amount = daily_revenue.amount + excluded.amount`,
          [JSON.stringify(batch.revenue)],
        );
      }
    },
  });
