import type { Migration } from '../../kernel/db/migrate.ts';

export const registrationMigrations: Migration[] = [
  {
    id: '0004_registration',
    sql: /* sql */ `
      -- One active customer per email, claimed in the saga's first step and released by its compensation.
      create table customer_emails (
        email text primary key,
        customer_id text not null
      );

      -- A retried POST /register (same Idempotency-Key) finds its registration here (until 0041 moved the keys to http_idempotency).
      create table idempotency_keys (
        key text primary key,
        request_hash text not null,
        registration_id text not null,
        created_at timestamptz not null
      );
    `,
  },
];
