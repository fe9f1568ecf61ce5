import type { Migration } from '../../../kernel/db/migrate.ts';

export const paymentIntentMigrations: Migration[] = [
  {
    id: '0030_payment_intents',
    sql: /* sql */ `
      -- Written (and committed) before every gateway charge, settled after its outcome is recorded:
      -- an intent left pending is a call whose answer nobody recorded (a process died, a timeout,
      -- an abandoned attempt), which the reconciler settles with the gateway's retrieve.
      create table payment_intents (
        idempotency_key text primary key,
        -- the flow that made the charge, asked whether it can still use it: registration | renewal
        flow_type text not null,
        flow_id text not null,
        payment_id text not null,
        customer_id text not null,
        subscription_id text,
        amount bigint not null,
        currency text not null,
        purpose text not null,
        period_index integer not null,
        attempt integer not null,
        -- the tax rate the charge carries (basis points), recorded on its PaymentProcessed whoever records it
        tax_rate_bps integer not null default 0,
        -- the payment method token (never a card number)
        payment_method text not null,
        -- pending | succeeded | declined | void (nothing was charged) | refund_due | refunded
        status text not null,
        charge_id text,
        refund_reason text,
        attempts integer not null default 0,
        last_error text,
        next_attempt_at timestamptz,
        created_at timestamptz not null,
        updated_at timestamptz not null
      );
      create index payment_intents_open on payment_intents (next_attempt_at) where status in ('pending', 'refund_due');
    `,
  },
];
