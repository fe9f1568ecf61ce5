import type { Database, Sql } from '../../../kernel/db/database.ts';
import type { Migration } from '../../../kernel/db/migrate.ts';
import { isUniqueViolation } from '../../../kernel/db/unique-violation.ts';
import type { GatewayCharge, RefundResult } from './gateway.ts';

/** A refund as the gateway keeps it: its result and the parameters it was asked with. */
export interface StoredRefund extends RefundResult {
  idempotencyKey: string;
  /** The amount the caller asked for, or null for "the rest" (compared when the key is reused). */
  requestedAmount: number | null;
}

export interface RefundState {
  /** The refund already made with this idempotency key, if any. */
  existing: StoredRefund | null;
  /** The charge to refund, locked until the refund is stored, or null when unknown. */
  charge: GatewayCharge | null;
}

/**
 * Where the simulated gateway keeps its charges and refunds. In memory by default; in the
 * platform's database (`gateway_charges`, `gateway_refunds`) so that a restarted process, or
 * another one, still knows every charge it made.
 */
export interface ChargeStore {
  /** Stores the charge unless its idempotency key is taken; returns what is stored under the key. */
  insertCharge(charge: GatewayCharge): Promise<{ charge: GatewayCharge; inserted: boolean }>;
  findCharge(idempotencyKey: string): Promise<GatewayCharge | null>;
  listCharges(filter?: { customerId?: string }): Promise<GatewayCharge[]>;
  /**
   * Atomically: calls `decide` with the refund already made with `idempotencyKey` and the charge
   * (locked); stores the refund it returns (adding its amount to the charge's refunded amount), or
   * stores nothing when it returns null (a replay) or throws.
   */
  refund(
    idempotencyKey: string,
    chargeId: string,
    decide: (state: RefundState) => StoredRefund | null,
  ): Promise<{ refund: StoredRefund; inserted: boolean }>;
}

export class MemoryChargeStore implements ChargeStore {
  private readonly charges = new Map<string, GatewayCharge>();
  private readonly keysByChargeId = new Map<string, string>();
  private readonly refunds = new Map<string, StoredRefund>();

  async insertCharge(charge: GatewayCharge) {
    const existing = this.charges.get(charge.idempotencyKey);
    if (existing) return { charge: { ...existing }, inserted: false };
    this.charges.set(charge.idempotencyKey, { ...charge });
    this.keysByChargeId.set(charge.chargeId, charge.idempotencyKey);
    return { charge: { ...charge }, inserted: true };
  }

  async findCharge(idempotencyKey: string) {
    const charge = this.charges.get(idempotencyKey);
    return charge ? { ...charge } : null;
  }

  async listCharges(filter: { customerId?: string } = {}) {
    return [...this.charges.values()]
      .filter((charge) => filter.customerId === undefined || charge.customerId === filter.customerId)
      .map((charge) => ({ ...charge }));
  }

  async refund(idempotencyKey: string, chargeId: string, decide: (state: RefundState) => StoredRefund | null) {
    // No await between reading and writing: the decision and its effect are one step.
    const existing = this.refunds.get(idempotencyKey) ?? null;
    const key = this.keysByChargeId.get(chargeId);
    const charge = key === undefined ? undefined : this.charges.get(key);
    const fresh = decide({ existing: existing && { ...existing }, charge: charge ? { ...charge } : null });
    if (!fresh) return { refund: { ...existing! }, inserted: false };
    this.refunds.set(idempotencyKey, { ...fresh });
    charge!.amountRefunded += fresh.amount;
    return { refund: { ...fresh }, inserted: true };
  }
}

export const gatewayMigrations: Migration[] = [
  {
    id: '0003_gateway_charges',
    sql: /* sql */ `
      -- The payment gateway simulator's own records (in embedded mode it shares the platform's
      -- database so it survives the platform being killed). Never a card number: a token, brand, last4.
      create table gateway_charges (
        idempotency_key text primary key,
        charge_id text not null unique,
        status text not null check (status in ('succeeded', 'declined')),
        amount bigint not null check (amount > 0),
        currency text not null check (currency ~ '^[A-Z]{3}$'),
        customer_id text not null,
        description text not null,
        payment_method text not null check (payment_method ~ '^pm_[A-Za-z0-9_]+$'),
        brand text,
        last4 text check (last4 ~ '^[0-9]{4}$'),
        decline_code text,
        message text,
        amount_refunded bigint not null default 0 check (amount_refunded >= 0 and amount_refunded <= amount),
        created_at timestamptz not null,
        check ((status = 'succeeded') = (brand is not null and last4 is not null and decline_code is null))
      );
      create index gateway_charges_customer on gateway_charges (customer_id);

      create table gateway_refunds (
        idempotency_key text primary key,
        refund_id text not null unique,
        charge_id text not null references gateway_charges (charge_id),
        requested_amount bigint check (requested_amount > 0),
        amount bigint not null check (amount > 0),
        currency text not null,
        status text not null,
        created_at timestamptz not null
      );
      create index gateway_refunds_charge on gateway_refunds (charge_id);
    `,
  },
];

interface ChargeRow {
  idempotency_key: string;
  charge_id: string;
  status: string;
  amount: number | string;
  currency: string;
  customer_id: string;
  description: string;
  payment_method: string;
  brand: string | null;
  last4: string | null;
  decline_code: string | null;
  message: string | null;
  amount_refunded: number | string;
  created_at: Date | string;
}

interface RefundRow {
  idempotency_key: string;
  refund_id: string;
  charge_id: string;
  requested_amount: number | string | null;
  amount: number | string;
  currency: string;
  status: string;
  created_at: Date | string;
}

const iso = (value: Date | string): string => new Date(value).toISOString();

const chargeOf = (row: ChargeRow): GatewayCharge => {
  const details = {
    idempotencyKey: row.idempotency_key,
    chargeId: row.charge_id,
    amount: Number(row.amount),
    currency: row.currency,
    customerId: row.customer_id,
    description: row.description,
    paymentMethod: row.payment_method,
    amountRefunded: Number(row.amount_refunded),
    createdAt: iso(row.created_at),
  };
  return row.status === 'succeeded'
    ? { ...details, status: 'succeeded', brand: row.brand!, last4: row.last4! }
    : {
        ...details,
        status: 'declined',
        declineCode: row.decline_code as Extract<GatewayCharge, { status: 'declined' }>['declineCode'],
        message: row.message!,
      };
};

const refundOf = (row: RefundRow): StoredRefund => ({
  idempotencyKey: row.idempotency_key,
  refundId: row.refund_id,
  chargeId: row.charge_id,
  requestedAmount: row.requested_amount === null ? null : Number(row.requested_amount),
  amount: Number(row.amount),
  currency: row.currency,
  status: row.status as StoredRefund['status'],
  createdAt: iso(row.created_at),
});

/** Charges and refunds in `gateway_charges` / `gateway_refunds` (PostgreSQL or PGlite; run `gatewayMigrations` first). */
export class SqlChargeStore implements ChargeStore {
  constructor(private readonly db: Database) {}

  async insertCharge(charge: GatewayCharge) {
    const succeeded = charge.status === 'succeeded';
    const { rows } = await this.db.query<ChargeRow>(
      `insert into gateway_charges (idempotency_key, charge_id, status, amount, currency, customer_id, description, payment_method,
                                    brand, last4, decline_code, message, amount_refunded, created_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       on conflict (idempotency_key) do nothing
       returning *`,
      [
        charge.idempotencyKey,
        charge.chargeId,
        charge.status,
        charge.amount,
        charge.currency,
        charge.customerId,
        charge.description,
        charge.paymentMethod,
        succeeded ? charge.brand : null,
        succeeded ? charge.last4 : null,
        succeeded ? null : charge.declineCode,
        succeeded ? null : charge.message,
        charge.amountRefunded,
        charge.createdAt,
      ],
    );
    if (rows[0]) return { charge: chargeOf(rows[0]), inserted: true };
    // Taken by an earlier (or concurrent, now committed) request with the same key.
    const existing = await this.findCharge(charge.idempotencyKey);
    if (!existing) throw new Error(`gateway_charges: key ${charge.idempotencyKey} conflicted but cannot be read`);
    return { charge: existing, inserted: false };
  }

  async findCharge(idempotencyKey: string) {
    const { rows } = await this.db.query<ChargeRow>('select * from gateway_charges where idempotency_key = $1', [
      idempotencyKey,
    ]);
    return rows[0] ? chargeOf(rows[0]) : null;
  }

  async listCharges(filter: { customerId?: string } = {}) {
    const { rows } = await this.db.query<ChargeRow>(
      'select * from gateway_charges where $1::text is null or customer_id = $1 order by created_at, charge_id',
      [filter.customerId ?? null],
    );
    return rows.map(chargeOf);
  }

  async refund(idempotencyKey: string, chargeId: string, decide: (state: RefundState) => StoredRefund | null) {
    try {
      return await this.db.transaction((tx) => this.refundIn(tx, idempotencyKey, chargeId, decide));
    } catch (error) {
      // The same key, first used concurrently (perhaps for another charge): decide against what won.
      if (!isUniqueViolation(error)) throw error;
      return this.db.transaction((tx) => this.refundIn(tx, idempotencyKey, chargeId, decide));
    }
  }

  private async refundIn(
    tx: Sql,
    idempotencyKey: string,
    chargeId: string,
    decide: (state: RefundState) => StoredRefund | null,
  ) {
    // Lock the charge first: refunds of one charge run one at a time, so the amounts add up.
    const charges = await tx.query<ChargeRow>('select * from gateway_charges where charge_id = $1 for update', [
      chargeId,
    ]);
    const refunds = await tx.query<RefundRow>('select * from gateway_refunds where idempotency_key = $1', [
      idempotencyKey,
    ]);
    const existing = refunds.rows[0] ? refundOf(refunds.rows[0]) : null;
    const fresh = decide({ existing, charge: charges.rows[0] ? chargeOf(charges.rows[0]) : null });
    if (!fresh) return { refund: existing!, inserted: false };
    await tx.query(
      `insert into gateway_refunds (idempotency_key, refund_id, charge_id, requested_amount, amount, currency, status, created_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        fresh.idempotencyKey,
        fresh.refundId,
        fresh.chargeId,
        fresh.requestedAmount,
        fresh.amount,
        fresh.currency,
        fresh.status,
        fresh.createdAt,
      ],
    );
    await tx.query('update gateway_charges set amount_refunded = amount_refunded + $2 where charge_id = $1', [
      fresh.chargeId,
      fresh.amount,
    ]);
    return { refund: fresh, inserted: true };
  }
}
