import type { Migration } from '../db/migrate.ts';

export const consumerMigrations: Migration[] = [
  {
    id: '0002_consumers',
    sql: /* sql */ `
      -- Processed event ids per consumer, written in the handler's transaction: exactly-once effect.
      create table inbox (
        consumer text not null,
        event_id uuid not null,
        processed_at timestamptz not null,
        primary key (consumer, event_id)
      );

      -- Every dead letter, whatever the bus, so it can be listed and replayed.
      create table dead_letters (
        id bigint generated always as identity primary key,
        consumer text not null,
        event_id text,
        event_type text,
        topic text not null,
        message_key text not null,
        headers jsonb not null,
        body text not null,
        origin jsonb not null,
        error text not null,
        poison boolean not null,
        attempts integer not null,
        failed_at timestamptz not null,
        replayed_at timestamptz
      );
      create index dead_letters_pending on dead_letters (consumer, id) where replayed_at is null;
    `,
  },
  {
    // Per consumer and Kafka partition: the log position its batches applied up to (the relay
    // publishes in the log's order), so a batch needs no inbox row per event; events it took
    // through the inbox instead lie up to inbox_until.
    id: '0046_partition_marks',
    sql: /* sql */ `
      create table partition_marks (
        consumer text not null,
        topic text not null,
        partition integer not null,
        tx_id xid8 not null,
        position bigint not null,
        inbox_until_tx xid8,
        inbox_until_position bigint,
        primary key (consumer, topic, partition)
      );
    `,
  },
];
