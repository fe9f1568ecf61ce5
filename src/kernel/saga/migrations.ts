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
];
