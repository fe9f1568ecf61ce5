import type { Migration } from '../db/migrate.ts';

export const cryptoMigrations: Migration[] = [
  {
    id: '0010_customer_keys',
    sql: /* sql */ `
      -- One AES-256 key per customer: its PII in the events is encrypted with it; deleting the row is erasure.
      create table customer_keys (
        customer_id text primary key,
        key bytea not null,
        created_at timestamptz not null
      );

      -- Secrets the platform generates once and shares between its processes (the email HMAC key).
      create table platform_secrets (
        name text primary key,
        value bytea not null
      );
    `,
  },
];
