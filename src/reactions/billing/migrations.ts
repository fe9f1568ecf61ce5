import type { Migration } from '../../kernel/db/migrate.ts';

export const billingMigrations: Migration[] = [
  {
    id: '0008_billing_invoices',
    sql: /* sql */ `
      -- The last invoice number of each year. An issuing transaction locks its year's row, takes
      -- the next number and inserts the invoice before it commits: numbers have no gaps, because a
      -- number is only ever taken by a transaction that also writes its invoice.
      create table invoice_counters (
        year integer primary key,
        last_number integer not null check (last_number >= 0)
      );

      -- One invoice per successful charge (payment_id unique), whichever event issued it.
      create table invoices (
        id uuid primary key,
        number text not null unique,
        year integer not null,
        sequence integer not null check (sequence > 0),
        payment_id uuid not null unique,
        customer_id uuid not null,
        subscription_id uuid,
        purpose text not null check (purpose in ('registration', 'renewal')),
        period_index integer,
        plan_id text not null,
        lines jsonb not null,
        currency char(3) not null,
        subtotal bigint not null check (subtotal >= 0),
        tax bigint not null check (tax >= 0),
        total bigint not null check (total > 0),
        tax_rate_bps integer not null check (tax_rate_bps between 0 and 10000),
        status text not null check (status = 'paid'),
        payment_reference text not null,
        payment_method jsonb not null,
        issued_at timestamptz not null,
        created_at timestamptz not null,
        source_event_id uuid not null,
        constraint invoices_year_sequence_unique unique (year, sequence),
        constraint invoices_total_adds_up check (subtotal + tax = total)
      );
      create index invoices_customer on invoices (customer_id, issued_at, number);
    `,
  },
  {
    id: '0009_billing_ledger',
    sql: /* sql */ `
      create table ledger_accounts (
        code text primary key,
        name text not null,
        type text not null check (type in ('asset', 'liability', 'revenue', 'contra_revenue')),
        normal_balance text not null check (normal_balance in ('debit', 'credit'))
      );
      insert into ledger_accounts (code, name, type, normal_balance) values
        ('1000', 'Cash', 'asset', 'debit'),
        ('1100', 'Accounts Receivable', 'asset', 'debit'),
        ('2100', 'Deferred Revenue', 'liability', 'credit'),
        ('2200', 'Tax Payable', 'liability', 'credit'),
        ('4000', 'Revenue', 'revenue', 'credit'),
        ('4900', 'Refunds', 'contra_revenue', 'debit');

      -- The journal. Each entry is keyed by what caused it (source_id: the event id; part: the day
      -- of the service period for revenue recognition), so a repeated posting finds its key taken.
      create table journal_entries (
        id uuid primary key,
        seq bigint generated always as identity unique,
        source_id uuid not null,
        kind text not null check (kind in ('charge', 'settlement', 'recognition', 'refund')),
        part integer not null default 0,
        payment_id uuid not null,
        customer_id uuid not null,
        currency char(3) not null,
        description text not null,
        effective_at timestamptz not null,
        posted_at timestamptz not null,
        constraint journal_entries_source_unique unique (source_id, kind, part)
      );
      create index journal_entries_payment on journal_entries (payment_id, seq);
      create index journal_entries_effective on journal_entries (effective_at);

      -- Signed amounts in minor units: a debit is positive, a credit negative; an entry's lines
      -- sum to zero (checked before they are written). One currency per entry.
      create table journal_lines (
        entry_id uuid not null references journal_entries (id),
        line integer not null,
        account text not null references ledger_accounts (code),
        currency char(3) not null,
        amount bigint not null check (amount <> 0),
        effective_at timestamptz not null,
        primary key (entry_id, line)
      );
      create index journal_lines_account on journal_lines (account, currency, effective_at);

      -- A journal is corrected by new entries, never rewritten.
      create function journal_append_only() returns trigger language plpgsql as $fn$
      begin
        raise exception using errcode = 'insufficient_privilege', message = format('the journal is append-only: %s refused', tg_op);
      end
      $fn$;
      create trigger journal_entries_no_rewrite before update or delete on journal_entries
        for each row execute function journal_append_only();
      create trigger journal_lines_no_rewrite before update or delete on journal_lines
        for each row execute function journal_append_only();

      -- Revenue still to recognise per charge: straight line over the service period, by day.
      -- Refunds re-anchor the line (anchor_*): what is left deferred is spread over the days left.
      create table revenue_schedules (
        payment_id uuid primary key,
        charge_event_id uuid not null,
        customer_id uuid not null,
        currency char(3) not null,
        gross bigint not null check (gross > 0),
        tax bigint not null check (tax >= 0),
        amount bigint not null check (amount >= 0),
        period_start timestamptz not null,
        period_end timestamptz not null,
        days integer not null check (days > 0),
        recognised bigint not null default 0,
        released bigint not null default 0,
        refunded bigint not null default 0,
        refunded_tax bigint not null default 0,
        through_day integer not null default 0,
        anchor_day integer not null default 0,
        anchor_recognised bigint not null default 0,
        anchor_deferred bigint not null,
        -- when the next day is earned; null once nothing is left to recognise
        next_due_at timestamptz,
        check (recognised + released <= amount),
        check (refunded <= gross)
      );
      create index revenue_schedules_due on revenue_schedules (next_due_at) where next_due_at is not null;
    `,
  },
];
