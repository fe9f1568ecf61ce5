import type { Migration } from '../../kernel/db/migrate.ts';

export const churnModelMigrations: Migration[] = [
  {
    id: '0013_churn_model',
    sql: /* sql */ `
      -- One labelled example per renewal (churned = false) or cancellation (churned = true), with
      -- the features known when it happened. Keyed by the event, so a repeated event adds nothing.
      create table churn_examples (
        event_id uuid primary key,
        seq bigint generated always as identity unique,
        subscription_id uuid not null,
        churned boolean not null,
        features jsonb not null,
        observed_at timestamptz not null,
        recorded_at timestamptz not null
      );

      -- Each trained model: its metrics on the held-out subscriptions, the sizes of both sets and
      -- its parameters (encoding and coefficients). The highest version is the current model.
      create table churn_models (
        version integer primary key check (version > 0),
        trained_at timestamptz not null,
        training_size integer not null check (training_size > 0),
        test_size integer not null check (test_size > 0),
        training_churned integer not null check (training_churned between 0 and training_size),
        test_churned integer not null check (test_churned between 0 and test_size),
        auc double precision not null check (auc between 0 and 1),
        log_loss double precision not null check (log_loss >= 0),
        parameters jsonb not null
      );
    `,
  },
];
