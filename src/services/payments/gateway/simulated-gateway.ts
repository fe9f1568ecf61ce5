import { setTimeout as sleep } from 'node:timers/promises';
import { pooledRandomBytes } from '../../../kernel/crypto/random-pool.ts';
import { systemClock, type Clock } from '../../../kernel/clock.ts';
import type { Database } from '../../../kernel/db/database.ts';
import { MemoryChargeStore, SqlChargeStore, type ChargeStore, type StoredRefund } from './charge-store.ts';
import {
  chargeRequestSchema,
  chargeResultOf,
  GatewayTimeoutError,
  GatewayUnavailableError,
  IdempotencyKeyReuseError,
  idempotencyKey as idempotencyKeySchema,
  invalidRequest,
  RefundRefusedError,
  refundRequestSchema,
  UnknownChargeError,
  UnknownPaymentMethodError,
  type ChargeRequest,
  type ChargeResult,
  type DeclineCode,
  type GatewayCharge,
  type PaymentGateway,
  type RefundRequest,
  type RefundResult,
} from './gateway.ts';

interface TestCard {
  brand: string;
  last4: string;
  decline?: { code: DeclineCode; message: string };
}

/** Stripe's test payment methods: the only tokens the simulator knows. */
export const TEST_PAYMENT_METHODS: ReadonlyMap<string, TestCard> = new Map<string, TestCard>([
  ['pm_card_visa', { brand: 'visa', last4: '4242' }],
  ['pm_card_mastercard', { brand: 'mastercard', last4: '4444' }],
  [
    'pm_card_chargeDeclined',
    { brand: 'visa', last4: '0002', decline: { code: 'generic_decline', message: 'Your card was declined.' } },
  ],
  [
    'pm_card_chargeDeclinedInsufficientFunds',
    {
      brand: 'visa',
      last4: '9995',
      decline: { code: 'insufficient_funds', message: 'Your card has insufficient funds.' },
    },
  ],
  [
    'pm_card_chargeDeclinedExpiredCard',
    { brand: 'visa', last4: '0069', decline: { code: 'expired_card', message: 'Your card has expired.' } },
  ],
]);

/**
 * `unavailable`: nothing happens, the caller gets `GatewayUnavailableError`.
 * `timeout-before-charge`: nothing happens, the caller gets `GatewayTimeoutError`.
 * `timeout-after-charge`: the request takes effect (the charge or refund is recorded) but the
 * caller gets `GatewayTimeoutError`: the ambiguous case, resolved by `retrieve` or a retry with the same key.
 */
export const faultKinds = ['unavailable', 'timeout-before-charge', 'timeout-after-charge'] as const;
export type FaultKind = (typeof faultKinds)[number];
export const gatewayOperations = ['charge', 'refund', 'retrieve'] as const;
export type GatewayOperation = (typeof gatewayOperations)[number];

export interface SimulatedGatewayOptions {
  /** Time of the records (`createdAt`); the platform's clock. */
  clock?: Clock;
  /**
   * Durable records: a Database migrated with `gatewayMigrations` (tables `gateway_charges`,
   * `gateway_refunds`), or any ChargeStore. In memory (lost with the process) when absent.
   */
  store?: Database | ChargeStore;
  /** Wall-clock delay before every call takes effect (the network and the processor). */
  latencyMs?: number;
}

/** What this instance did since it was created (not what a previous process did: see `listCharges`). */
export interface GatewayCounters {
  /** Calls of `charge`, including replays and failures. */
  chargeRequests: number;
  /** Successful charges actually made (a replay makes none). */
  charges: number;
  /** Declined attempts actually recorded. */
  declines: number;
  /** Refunds actually made. */
  refunds: number;
}

const isStore = (value: Database | ChargeStore): value is ChargeStore => 'insertCharge' in value;

const newId = (prefix: string) => `${prefix}_${pooledRandomBytes(12).toString('hex')}`;

/**
 * The payment gateway simulator: Stripe-style test tokens, idempotent by key, with injectable
 * latency, outages and ambiguous timeouts. Runs in process (embedded) or behind
 * `buildGatewayServer` (distributed). Keeps only tokens, brands and last4s.
 */
export class SimulatedGateway implements PaymentGateway {
  private readonly clock: Clock;
  private readonly store: ChargeStore;
  private latencyMs: number;
  private readonly faults: { operation: GatewayOperation; kind: FaultKind; remaining: number }[] = [];
  private readonly stats: GatewayCounters = { chargeRequests: 0, charges: 0, declines: 0, refunds: 0 };
  private readonly requestsByKey = new Map<string, number>();
  private readonly chargesByKey = new Map<string, number>();

  constructor(options: SimulatedGatewayOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.store =
      options.store === undefined
        ? new MemoryChargeStore()
        : isStore(options.store)
          ? options.store
          : new SqlChargeStore(options.store);
    this.latencyMs = options.latencyMs ?? 0;
  }

  // -- fault injection and counters, for tests ------------------------------------------------

  /** The next `count` calls of `operation` (default `charge`) fail as `kind`. Queued after earlier faults. */
  failNext(count: number, kind: FaultKind, operation: GatewayOperation = 'charge'): void {
    if (!Number.isInteger(count) || count < 0) throw new RangeError('failNext: count must be a non-negative integer');
    if (count > 0) this.faults.push({ operation, kind, remaining: count });
  }

  /** Forgets every fault not yet used. */
  clearFaults(): void {
    this.faults.length = 0;
  }

  setLatency(milliseconds: number): void {
    if (!Number.isFinite(milliseconds) || milliseconds < 0)
      throw new RangeError('latency must be a non-negative number of milliseconds');
    this.latencyMs = milliseconds;
  }

  counters(): GatewayCounters {
    return { ...this.stats };
  }

  /** Successful charges this instance actually made with the key: 0 or 1, whatever the retries. */
  chargesFor(idempotencyKey: string): number {
    return this.chargesByKey.get(idempotencyKey) ?? 0;
  }

  /** Calls of `charge` this instance received with the key. */
  requestsFor(idempotencyKey: string): number {
    return this.requestsByKey.get(idempotencyKey) ?? 0;
  }

  /** Every charge attempt in the store (survives restarts when durable), optionally of one customer. */
  listCharges(filter: { customerId?: string } = {}): Promise<GatewayCharge[]> {
    return this.store.listCharges(filter);
  }

  // -- PaymentGateway --------------------------------------------------------------------------

  async charge(input: ChargeRequest): Promise<ChargeResult> {
    this.stats.chargeRequests++;
    if (typeof input?.idempotencyKey === 'string')
      this.requestsByKey.set(input.idempotencyKey, this.requestsFor(input.idempotencyKey) + 1);
    return this.withFaults('charge', async () => {
      const parsed = chargeRequestSchema.safeParse(input);
      if (!parsed.success) throw invalidRequest(parsed.error);
      const request = parsed.data;

      // A key seen before is found by the insert (one statement for a new key, the usual case).
      const card = TEST_PAYMENT_METHODS.get(request.paymentMethod);
      if (!card) {
        const previous = await this.store.findCharge(request.idempotencyKey);
        if (previous) return this.replay(previous, request);
        throw new UnknownPaymentMethodError(request.paymentMethod);
      }
      const details = {
        idempotencyKey: request.idempotencyKey,
        chargeId: newId('ch'),
        amount: request.amount,
        currency: request.currency,
        customerId: request.customerId,
        description: request.description,
        paymentMethod: request.paymentMethod,
        amountRefunded: 0,
        createdAt: this.clock.now().toISOString(),
      };
      const record: GatewayCharge = card.decline
        ? { ...details, status: 'declined', declineCode: card.decline.code, message: card.decline.message }
        : { ...details, status: 'succeeded', brand: card.brand, last4: card.last4 };
      const { charge, inserted } = await this.store.insertCharge(record);
      if (!inserted) return this.replay(charge, request); // an earlier (or concurrent) request with the key
      if (charge.status === 'succeeded') {
        this.stats.charges++;
        this.chargesByKey.set(charge.idempotencyKey, this.chargesFor(charge.idempotencyKey) + 1);
      } else {
        this.stats.declines++;
      }
      return chargeResultOf(charge);
    });
  }

  async refund(input: RefundRequest): Promise<RefundResult> {
    return this.withFaults('refund', async () => {
      const parsed = refundRequestSchema.safeParse(input);
      if (!parsed.success) throw invalidRequest(parsed.error);
      const request = parsed.data;
      const { refund, inserted } = await this.store.refund(
        request.idempotencyKey,
        request.chargeId,
        ({ existing, charge }) => {
          if (existing) {
            const fields = [
              ...(existing.chargeId !== request.chargeId ? ['chargeId'] : []),
              ...(existing.requestedAmount !== (request.amount ?? null) ? ['amount'] : []),
            ];
            if (fields.length > 0) throw new IdempotencyKeyReuseError(request.idempotencyKey, fields);
            return null;
          }
          if (!charge) throw new UnknownChargeError(request.chargeId);
          if (charge.status !== 'succeeded')
            throw new RefundRefusedError(
              charge.chargeId,
              'charge_not_succeeded',
              `charge ${charge.chargeId} was declined: there is nothing to refund`,
            );
          const remaining = charge.amount - charge.amountRefunded;
          if (remaining === 0)
            throw new RefundRefusedError(
              charge.chargeId,
              'charge_already_refunded',
              `charge ${charge.chargeId} is already fully refunded`,
            );
          const amount = request.amount ?? remaining;
          if (amount > remaining) {
            throw new RefundRefusedError(
              charge.chargeId,
              'amount_too_large',
              `refund of ${amount} exceeds the ${remaining} ${charge.currency} (minor units) left to refund on charge ${charge.chargeId}`,
            );
          }
          const fresh: StoredRefund = {
            idempotencyKey: request.idempotencyKey,
            requestedAmount: request.amount ?? null,
            refundId: newId('re'),
            status: 'succeeded',
            chargeId: charge.chargeId,
            amount,
            currency: charge.currency,
            createdAt: this.clock.now().toISOString(),
          };
          return fresh;
        },
      );
      if (inserted) this.stats.refunds++;
      const { idempotencyKey: _key, requestedAmount: _requested, ...result } = refund;
      return result;
    });
  }

  async retrieve(idempotencyKey: string): Promise<GatewayCharge | null> {
    return this.withFaults('retrieve', async () => {
      const parsed = idempotencyKeySchema.safeParse(idempotencyKey);
      if (!parsed.success) throw invalidRequest(parsed.error, 'idempotencyKey');
      return this.store.findCharge(parsed.data);
    });
  }

  // -- internals -------------------------------------------------------------------------------

  /** The same key again: the recorded result when the parameters match, else a reuse error. */
  private replay(previous: GatewayCharge, request: ChargeRequest): ChargeResult {
    const fields = (['amount', 'currency', 'paymentMethod', 'customerId', 'description'] as const).filter(
      (field) => previous[field] !== request[field],
    );
    if (fields.length > 0) throw new IdempotencyKeyReuseError(request.idempotencyKey, fields);
    return chargeResultOf(previous);
  }

  private takeFault(operation: GatewayOperation): FaultKind | undefined {
    const index = this.faults.findIndex((fault) => fault.operation === operation);
    if (index < 0) return undefined;
    const fault = this.faults[index]!;
    if (--fault.remaining === 0) this.faults.splice(index, 1);
    return fault.kind;
  }

  private async withFaults<T>(operation: GatewayOperation, effect: () => Promise<T>): Promise<T> {
    const fault = this.takeFault(operation);
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    if (fault === 'unavailable')
      throw new GatewayUnavailableError(
        `simulated outage: the gateway did not accept the ${operation}; nothing was done`,
      );
    if (fault === 'timeout-before-charge')
      throw new GatewayTimeoutError(
        `simulated timeout of the ${operation} (before it took effect): outcome unknown to the caller`,
      );
    if (fault !== 'timeout-after-charge') return effect();
    // The effect happens (or fails) but its answer is lost.
    await effect().catch(() => undefined);
    throw new GatewayTimeoutError(
      `simulated timeout of the ${operation} (after it took effect): outcome unknown to the caller`,
    );
  }
}
