import type { CustomerCreatedData } from '../../domain/events/customer-created.ts';
import type { CustomerDeletedData } from '../../domain/events/customer-deleted.ts';
import type { CustomerRegisteredData } from '../../domain/events/customer-registered.ts';
import type { Database, Sql } from '../../kernel/db/database.ts';
import { defineProjection, type ProjectionDefinition } from '../../kernel/projections/projection.ts';
import type { ProjectedEvent } from '../../kernel/store/envelope.ts';
import { emailDigester } from '../../kernel/crypto/keyed-hash.ts';
import { decryptMany, type Pii } from '../../kernel/crypto/personal-data.ts';
import { upsertRows, type Column } from '../upsert-rows.ts';

export type CustomerStatus = 'pending' | 'registered' | 'deleted';

/** A row of `customer_view.customers`, times as ISO strings. */
export interface CustomerRow {
  customer_id: string;
  /** Email and name sealed with the customer's key, as its events carry them; null once it is deleted. */
  pii: Pii | null;
  /** The keyed hash of the email (the `?email=` lookup); null once deleted or its key is gone. */
  email_digest: string | null;
  status: CustomerStatus;
  plan_id: string;
  created_at: string;
  registered_at: string | null;
  deleted_at: string | null;
  deletion_reason: CustomerDeletedData['reason'] | null;
}

const columns: readonly Column[] = [
  ['customer_id', 'text'],
  ['pii', 'jsonb'],
  ['email_digest', 'text'],
  ['status', 'text'],
  ['plan_id', 'text'],
  ['created_at', 'timestamptz'],
  ['registered_at', 'timestamptz'],
  ['deleted_at', 'timestamptz'],
  ['deletion_reason', 'text'],
];

const TYPES = ['CustomerCreated', 'CustomerRegistered', 'CustomerDeleted'] as const;

type CustomerEvent =
  | { type: 'CustomerCreated'; data: CustomerCreatedData }
  | { type: 'CustomerRegistered'; data: CustomerRegisteredData }
  | { type: 'CustomerDeleted'; data: CustomerDeletedData };

const asCustomerEvent = (event: ProjectedEvent) => event as unknown as CustomerEvent;

/**
 * One customer's row after one event. Personal data is filled in after the fold (decrypted once
 * per customer and batch); a deleted customer keeps none, whatever the reason.
 */
function evolve(row: CustomerRow | undefined, event: CustomerEvent): CustomerRow | undefined {
  switch (event.type) {
    case 'CustomerCreated': {
      const { customerId, planId, createdAt } = event.data;
      // A repeat (the decider allows none, but an old log might) keeps the row as it is.
      return (
        row ?? {
          customer_id: customerId,
          pii: null,
          email_digest: null,
          status: 'pending',
          plan_id: planId,
          created_at: createdAt,
          registered_at: null,
          deleted_at: null,
          deletion_reason: null,
        }
      );
    }
    case 'CustomerRegistered': {
      const { customerId, planId, registeredAt } = event.data;
      if (row?.status === 'deleted') return row;
      // Customers registered before CustomerCreated existed (v1 events) have no earlier event.
      const base = row ?? {
        customer_id: customerId,
        pii: null,
        email_digest: null,
        status: 'pending' as const,
        plan_id: planId,
        created_at: registeredAt,
        registered_at: null,
        deleted_at: null,
        deletion_reason: null,
      };
      return { ...base, status: 'registered', plan_id: planId, registered_at: registeredAt };
    }
    case 'CustomerDeleted': {
      // Deleting a customer the view never saw created leaves nothing to show.
      if (!row) return undefined;
      return {
        ...row,
        status: 'deleted',
        pii: null,
        email_digest: null,
        deleted_at: event.data.deletedAt,
        deletion_reason: event.data.reason,
      };
    }
  }
}

/** The personal data each customer's last event of the batch carries (the same on all of its events). */
function sealedPersonalData(events: readonly ProjectedEvent[]): Map<string, Pii> {
  const sealed = new Map<string, Pii>();
  for (const event of events.map(asCustomerEvent)) {
    if (event.type !== 'CustomerDeleted') sealed.set(event.data.customerId, event.data.pii);
  }
  return sealed;
}

/**
 * The sealed data of each customer with the keyed hash of its email, computed from the data
 * opened in memory (never written in clear); no hash once the key is gone.
 */
async function sealedWithDigests(
  sealed: Map<string, Pii>,
  platformDb: Database,
): Promise<Map<string, { pii: Pii; digest: string | null }>> {
  if (sealed.size === 0) return new Map();
  const clear = await decryptMany(
    [...sealed].map(([customerId, pii]) => ({ customerId, pii })),
    platformDb,
  );
  const digest = await emailDigester(platformDb);
  return new Map(
    [...sealed].map(([customerId, pii]) => {
      const data = clear.get(customerId);
      return [customerId, { pii, digest: data ? digest(data.email) : null }];
    }),
  );
}

// Times come back as text: the fold only copies them, and PostgreSQL reads its own output back.
const SELECT_CUSTOMER = columns.map(([name, type]) => (type === 'timestamptz' ? `${name}::text` : name)).join(', ');

async function loadRows(tx: Sql, schema: string, ids: string[]): Promise<Map<string, CustomerRow>> {
  const { rows } = await tx.query<CustomerRow>(
    `select ${SELECT_CUSTOMER} from ${schema}.customers where customer_id = any($1::text[])`,
    [ids],
  );
  return new Map(rows.map((row) => [row.customer_id, row]));
}

/**
 * The customer view: one row per customer with its email and name sealed with the customer's key
 * as the events carry them (opened at the edge, by the routes) and the keyed hash of its email for
 * lookups. The key lives in the platform database; the projection reads it before the batch's
 * transaction (`prefetch`) to compute the hash. Nothing personal is ever written in clear, so no
 * earlier row version, WAL record or shadow schema holds it; CustomerDeleted clears both columns.
 */
export function customerProjection(deps: { platformDb: Database }): ProjectionDefinition {
  return defineProjection({
    name: 'customers',
    schema: 'customer_view',
    version: 2,
    types: TYPES,
    tables: (schema) => /* sql */ `
      create table ${schema}.customers (
        customer_id text primary key,
        pii jsonb,
        email_digest text,
        status text not null check (status in ('pending', 'registered', 'deleted')),
        plan_id text not null,
        created_at timestamptz not null,
        registered_at timestamptz,
        deleted_at timestamptz,
        deletion_reason text
      );
      -- The list's order (created_at, customer_id) and its filters.
      create index customers_page on ${schema}.customers (created_at, customer_id);
      create index customers_status_page on ${schema}.customers (status, created_at, customer_id);
      create index customers_email_page on ${schema}.customers (email_digest, created_at, customer_id) where email_digest is not null;
    `,
    async prefetch(events) {
      const sealed = sealedPersonalData(events);
      return sealedWithDigests(sealed, deps.platformDb);
    },
    async apply(events, { tx, schema, prefetched }) {
      const personal = prefetched as Map<string, { pii: Pii; digest: string | null }>;
      const byCustomer = new Map<string, CustomerEvent[]>();
      for (const event of events.map(asCustomerEvent)) {
        const list = byCustomer.get(event.data.customerId) ?? [];
        list.push(event);
        byCustomer.set(event.data.customerId, list);
      }
      const existing = await loadRows(tx, schema, [...byCustomer.keys()]);
      const changed: CustomerRow[] = [];
      for (const [customerId, customerEvents] of byCustomer) {
        let row = existing.get(customerId);
        for (const event of customerEvents) row = evolve(row, event);
        if (!row) continue;
        const data = personal.get(customerId);
        if (row.status !== 'deleted' && data !== undefined) row = { ...row, pii: data.pii, email_digest: data.digest };
        changed.push(row);
      }
      await upsertRows(
        tx,
        `${schema}.customers`,
        columns,
        'customer_id',
        changed as unknown as Record<string, unknown>[],
      );
    },
  });
}
