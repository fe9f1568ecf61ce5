import type { Migration } from '../../kernel/db/migrate.ts';

export const emailMigrations: Migration[] = [
  {
    id: '0007_email_notifications',
    sql: /* sql */ `
      -- The notification log: one row per email a consumer sent (or suppressed) for an event,
      -- written in the handler's transaction; the key stops a second send of the same email.
      create table notifications (
        id bigint generated always as identity primary key,
        event_id uuid not null,
        type text not null,
        customer_id uuid not null,
        to_address text,
        subject text,
        message_id text not null,
        status text not null check (status in ('sent', 'suppressed')),
        reason text,
        transport text,
        delivery text,
        created_at timestamptz not null,
        constraint notifications_event_type_unique unique (event_id, type)
      );
      create index notifications_to on notifications (lower(to_address), id);
      create index notifications_customer on notifications (customer_id);
    `,
  },
  {
    id: '0014_email_sealed_recipients',
    sql: /* sql */ `
      -- The recipient is personal data: sealed with the customer's key (JSON, opened at the edge) and
      -- looked up by a keyed hash, never in clear. Addresses logged before this could not be sealed
      -- after the fact (their customer may be erased already): they are dropped.
      drop index notifications_to;
      update notifications set to_address = null where to_address is not null;
      alter table notifications add column to_digest text;
      create index notifications_to on notifications (to_digest, id) where to_digest is not null;
    `,
  },
];
