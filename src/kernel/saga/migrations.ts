import { requireGuardMigration } from '../db/guard.ts';
import type { Migration } from '../db/migrate.ts';

export const sagaMigrations: Migration[] = [
  {
    id: '0003_sagas',
    sql: /* sql */ `
      create table sagas (
        id text primary key,
        type text not null,
        status text not null,
        state jsonb not null,
        failure jsonb,
        -- which process runs it, until when: a dead process's sagas are taken over once this passes
        lease_owner text,
        lease_until timestamptz,
        created_at timestamptz not null,
        updated_at timestamptz not null
      );
      create index sagas_unfinished on sagas (lease_until) where status in ('running', 'compensating');

      create table saga_steps (
        -- the order steps were first started in (their times come from the clock, which a test may hold still)
        seq bigint generated always as identity,
        saga_id text not null references sagas (id),
        step text not null,
        phase text not null,
        status text not null,
        attempts integer not null default 0,
        started_at timestamptz,
        finished_at timestamptz,
        error text,
        primary key (saga_id, step, phase)
      );
    `,
  },
  {
    id: '0031_saga_parked_retries',
    sql: /* sql */ `
      -- A parked saga (compensation_failed) is tried again on a growing backoff, without end:
      -- how often it was parked, when it is next due, and why it last failed.
      alter table sagas add column attempts integer not null default 0;
      alter table sagas add column next_attempt_at timestamptz;
      alter table sagas add column last_error text;
      create index sagas_parked on sagas (next_attempt_at) where status = 'compensation_failed';
      create index sagas_by_status on sagas (status, type, id);
    `,
  },
  {
    id: '0032_saga_traceparent',
    sql: /* sql */ `
      -- The trace a saga was started in: a run resumed by another process (or after a crash) goes on in it.
      alter table sagas add column traceparent text;
    `,
  },
  {
    id: '0033_saga_position',
    sql: /* sql */ `
      -- The event store position its checkpoints' appends reached: a caller reads its writes from there.
      alter table sagas add column position bigint;
    `,
  },
  requireGuardMigration,
];
