import { defineProjection, type ProjectionDefinition } from '../../kernel/projections/projection.ts';
import { ANALYTICS_EVENT_TYPES, foldAnalyticsBatch } from './analytics-batch.ts';

export const ANALYTICS_SCHEMA = 'analytics_view';

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
    version: 1,
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
      create index if not exists subscriptions_active_plan on ${schema}.subscriptions (plan_id) where ended_at is null;
      create index if not exists subscriptions_cancel_requested on ${schema}.subscriptions (cancel_requested_at) where cancel_requested_at is not null;
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
      if (batch.created.length) {
        await tx.query(
          `insert into ${schema}.subscriptions
           select * from jsonb_to_recordset($1::jsonb) as x(subscription_id text, customer_id text, plan_id text, currency text, mrr bigint, started_at timestamptz, cancel_requested_at timestamptz, ended_at timestamptz)
           on conflict (subscription_id) do nothing`,
          [JSON.stringify(batch.created)],
        );
      }
      if (batch.changed.length) {
        await tx.query(
          `update ${schema}.subscriptions s
           set cancel_requested_at = least(s.cancel_requested_at, x.cancel_requested_at), ended_at = least(s.ended_at, x.ended_at)
           from jsonb_to_recordset($1::jsonb) as x(subscription_id text, cancel_requested_at timestamptz, ended_at timestamptz)
           where s.subscription_id = x.subscription_id`,
          [JSON.stringify(batch.changed)],
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
