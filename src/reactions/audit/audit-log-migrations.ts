import type { Migration } from '../../kernel/db/migrate.ts';

export const auditMigrations: Migration[] = [
  {
    id: '0006_audit_log',
    sql: /* sql */ `
      -- The audit trail: one record per audited event, each carrying the hash of the one before.
      -- ids are assigned from the chain head (no gaps), so a removed record shows as a missing id.
      create table audit_records (
        id bigint primary key,
        event_id uuid not null,
        event_type text not null,
        subject text not null,
        stream_id text not null,
        actor text not null,
        correlation_id text not null,
        occurred_at timestamptz not null,
        summary text not null,
        prev_hash text not null,
        hash text not null,
        constraint audit_records_event_id_unique unique (event_id)
      );
      create index audit_records_subject on audit_records (subject, id);
      create index audit_records_occurred_at on audit_records (occurred_at, id);

      -- The chain head, one row: a writer locks it (select ... for update) in its transaction, so
      -- concurrent consumer instances append one after the other and never fork the chain.
      create table audit_chain_head (
        singleton boolean primary key default true check (singleton),
        last_id bigint not null,
        last_hash text not null
      );
      insert into audit_chain_head (singleton, last_id, last_hash) values (true, 0, repeat('0', 64));

      -- Append-only in the database too: whoever reaches the table with SQL cannot rewrite history
      -- without first dropping or disabling this trigger (which GET /audit/verify then exposes).
      create function audit_records_append_only() returns trigger language plpgsql as $fn$
      begin
        raise exception using
          errcode = 'insufficient_privilege',
          message = format('audit records are append-only: %s refused', tg_op);
      end
      $fn$;
      create trigger audit_records_no_rewrite before update or delete on audit_records
        for each row execute function audit_records_append_only();
      create trigger audit_records_no_truncate before truncate on audit_records
        for each statement execute function audit_records_append_only();
    `,
  },
];
