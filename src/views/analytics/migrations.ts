import type { Migration } from '../../kernel/db/migrate.ts';

/** Tables of the analytics pipeline, in the view database's own schema: a projection rebuild keeps them. */
export const analyticsMigrations: Migration[] = [
  {
    id: '0012_analytics_facts',
    sql: /* sql */ `
      -- One fact per signup (subject: the customer), per new subscription and per churned one
      -- (subject: the subscription): the MRR movement (+ new, - churned) with its plan and currency,
      -- the day it counts on, the cancellation's reason and the customer's signup (cohort) month.
      -- Topics arrive in no common order, so what a fact lacks at first (a churn's plan and MRR,
      -- a subscription's cohort) is filled in when the fact it comes from arrives.
      create table analytics_facts (
        kind text not null check (kind in ('signup', 'new', 'churned')),
        subject text not null,
        event_id text not null,
        customer_id text not null,
        subscription_id text,
        plan_id text,
        currency text,
        mrr_delta bigint,
        -- signup: registeredAt; new: createdAt; churned: when it takes effect
        at timestamptz not null,
        day date not null,
        -- churned: the (first) cancellation request
        requested_at timestamptz,
        reason text,
        cohort_month date,
        primary key (kind, subject)
      );
      create index analytics_facts_customer on analytics_facts (customer_id);
      create index analytics_facts_day on analytics_facts (kind, day);
    `,
  },
  {
    id: '0013_analytics_aggregates',
    sql: /* sql */ `
      -- What the queries would otherwise add up from every fact: the net MRR movement per day and
      -- currency, and per signup how many monthly anniversaries fell before its customer churned
      -- (null while subscribed), kept in step with the facts in the same transaction.
      create table analytics_mrr_daily (
        day date not null,
        currency text not null,
        amount bigint not null,
        primary key (day, currency)
      );
      alter table analytics_facts add column retained_months integer;
      create index analytics_facts_cohort on analytics_facts (cohort_month) where kind = 'signup';
      create index analytics_facts_requested on analytics_facts (requested_at) where kind = 'churned';
    `,
  },
  {
    id: '0042_analytics_cohort_days',
    sql: /* sql */ `
      -- The signups per day (their cohort is its month) and retained_months, kept in step with the
      -- signup facts in the same transaction: the cohorts and the signups series read these rows
      -- instead of counting every signup at each request. Filled from the facts already there.
      -- The cohort and the day of the month are kept apart so a query compares and groups plain columns.
      create table analytics_cohort_days (
        day date not null,
        retained_months integer,
        cohort_month date not null,
        day_of_month smallint not null,
        customers integer not null,
        unique nulls not distinct (day, retained_months)
      );
      create index analytics_cohort_days_cohort on analytics_cohort_days (cohort_month);
      insert into analytics_cohort_days (day, retained_months, cohort_month, day_of_month, customers)
      select day, retained_months, cohort_month, extract(day from day), count(*)
      from analytics_facts where kind = 'signup' group by day, retained_months, cohort_month;
      analyze analytics_cohort_days;
    `,
  },
];
