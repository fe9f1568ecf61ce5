import type { Migration } from '../../kernel/db/migrate.ts';

export const complianceMigrations: Migration[] = [
  {
    id: '0011_compliance',
    sql: /* sql */ `
      -- What a cancellation obliges the platform to (no charge after it, taking effect as promised,
      -- erasing the customer's personal data after the retention period), checked when due by the
      -- platform clock. A checked obligation is a finding: passed or violated, with its evidence.
      create table compliance_obligations (
        id text primary key,
        kind text not null check (kind in ('no_charge_after_cancellation', 'cancellation_took_effect', 'data_retention')),
        customer_id text not null,
        subscription_id text,
        cancellation_event_id text not null,
        effective_at timestamptz not null,
        at_period_end boolean not null,
        due_at timestamptz not null,
        status text not null default 'pending' check (status in ('pending', 'passed', 'violated')),
        checked_at timestamptz,
        evidence jsonb
      );
      create index compliance_obligations_due on compliance_obligations (due_at) where status = 'pending';
    `,
  },
];
