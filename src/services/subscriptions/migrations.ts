import type { Migration } from '../../kernel/db/migrate.ts';
import { timerClaimMigrations } from './timer-claims.ts';

export const subscriptionMigrations: Migration[] = [
  {
    id: '0005_subscriptions',
    sql: /* sql */ `
      -- When each subscription next needs the scheduler (renewal, dunning retry or end); the job
      -- re-reads the subscription, so a stale time only costs a look.
      create table subscription_timers (
        subscription_id text primary key,
        due_at timestamptz not null
      );
      create index subscription_timers_due on subscription_timers (due_at);

      -- The payment method each customer's renewals are charged to: a token, never a card number.
      create table payment_methods (
        customer_id text primary key,
        token text not null check (token ~ '^pm_[A-Za-z0-9_]+$')
      );

      -- The test clock survives a restart (embedded and test mode only).
      create table test_clock (
        id integer primary key check (id = 1),
        now timestamptz not null
      );
    `,
  },
  {
    id: '0020_test_clock_offset',
    sql: /* sql */ `
      -- The test clock follows the wall clock plus an offset, or stands still at frozen_at.
      alter table test_clock add column offset_ms bigint not null default 0, add column frozen_at timestamptz;
    `,
  },
  ...timerClaimMigrations,
];
