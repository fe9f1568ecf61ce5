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
];
