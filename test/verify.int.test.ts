import { v7 as uuidv7 } from 'uuid';
import { afterAll, describe, expect, it } from 'vitest';
import type { PaymentProcessedData } from '../src/domain/events/index.ts';
import type { SimulatedGateway } from '../src/services/payments/gateway/index.ts';
import type { RegistrationFaults } from '../src/services/registration/registration-saga.ts';
import { encrypt } from '../src/kernel/crypto/personal-data.ts';
import { handleCommand } from '../src/services/command-handler.ts';
import { paymentDecider } from '../src/domain/payment/decider.ts';
import { customerStream, paymentStream } from '../src/services/streams.ts';
import type { ViolationKind } from '../src/verify/violation.ts';
import { ADMIN_TOKEN, openPlatform, type Mode, type PlatformFixture } from './support/platform-fixture.ts';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const ENV = { CONSUMER_RETRY_BASE_MS: '10', CONSUMER_RETRY_MAX_MS: '50', CONSUMER_MAX_ATTEMPTS: '2' };
const metadata = { correlationId: 'verify-test', causationId: null, actor: 'test:verify' };

/** The payment intents as the workflow engine keeps them (its migration 0030), created here when it is not there yet. */
const INTENTS_DDL = `create table if not exists payment_intents (
  idempotency_key text primary key, flow_type text not null, flow_id text not null, payment_id text not null,
  customer_id text not null, subscription_id text, amount bigint not null, currency text not null, purpose text not null,
  period_index integer not null, attempt integer not null, payment_method text not null, status text not null,
  charge_id text, refund_reason text, attempts integer not null default 0, last_error text, next_attempt_at timestamptz,
  created_at timestamptz not null, updated_at timestamptz not null)`;

const PLANTED: ViolationKind[] = [
  'charge_unrecorded',
  'charge_recorded_twice',
  'payment_without_charge',
  'charge_unsettled',
  'refund_unrecorded',
  'refund_not_at_gateway',
  'refund_not_reversed',
  'renewal_after_cancellation',
  'ledger_unbalanced',
  'registration_unfinished',
  'customer_not_deleted',
  'intent_unsettled',
];

interface Registered {
  customerId: string;
  subscriptionId: string;
  paymentId: string;
}

function verifySuite(mode: Mode) {
  describe(`money invariants (tributary verify, GET /admin/verify) on ${mode}`, async () => {
    const faults: RegistrationFaults = {};
    const fixture = (await openPlatform(mode, ENV, { consumers: undefined, faults })) as PlatformFixture;
    const skip = fixture === null;
    afterAll(async () => fixture?.close());
    const inject = (method: 'GET' | 'POST', url: string, payload?: object) =>
      fixture.platform.http.inject({ method, url, payload, headers: admin });
    const register = (paymentMethod = 'pm_card_visa') =>
      inject('POST', '/register', {
        email: `v-${uuidv7()}@example.com`,
        name: 'Vera Verify',
        planId: 'pro-monthly',
        paymentMethod,
      });
    const now = () => fixture.platform.clock.now().toISOString();

    it.skipIf(skip)(
      'reports nothing on a platform that did everything right, once its consumers caught up',
      async () => {
        const kept = (await register()).json() as Registered;
        const cancelled = (await register()).json() as Registered;
        expect((await register('pm_card_chargeDeclined')).statusCode).toBe(402);
        faults.failSubscriptionStep = true;
        expect((await register()).statusCode).toBe(503); // charged, then refunded and the customer deleted
        faults.failSubscriptionStep = false;
        expect(
          (await inject('POST', `/subscriptions/${cancelled.subscriptionId}/cancel`, { atPeriodEnd: true })).statusCode,
        ).toBe(200);
        expect((await inject('POST', '/admin/clock/advance', { days: 40 })).statusCode).toBe(200); // kept renews, cancelled ends
        expect(kept.customerId).toBeTruthy();

        const response = await inject('GET', '/admin/verify?settleMs=30000');
        expect(response.statusCode).toBe(200);
        expect(response.json()).toMatchObject({ ok: true, violations: [] });
        expect(Date.parse(response.json().checkedAt)).not.toBeNaN();
        expect((await fixture.platform.http.inject({ method: 'GET', url: '/admin/verify' })).statusCode).toBe(401);
      },
    );

    it.skipIf(skip)('reports each planted violation with its ids', async () => {
      const { platform } = fixture;
      const { db, store } = platform;
      const gateway = platform.gateway as SimulatedGateway;
      const victim = (await register()).json() as Registered;
      const refundedVictim = (await register()).json() as Registered;
      const unreversed = (await register()).json() as Registered;
      const cancelled = (await register()).json() as Registered;
      expect(
        (await inject('POST', `/subscriptions/${cancelled.subscriptionId}/cancel`, { atPeriodEnd: false })).statusCode,
      ).toBe(200);
      const paymentOf = async (paymentId: string) =>
        (await store.readStream(paymentStream(paymentId)))[0]!.data as PaymentProcessedData;
      const victimPayment = await paymentOf(victim.paymentId);
      const charge = (key: string, customerId: string) =>
        gateway.charge({
          idempotencyKey: key,
          amount: 2900,
          currency: 'EUR',
          paymentMethod: 'pm_card_visa',
          customerId,
          description: `planted ${key}`,
        });
      const processed = (data: Partial<PaymentProcessedData> & { paymentId: string; gatewayReference: string }) =>
        store.append(paymentStream(data.paymentId), [
          {
            type: 'PaymentProcessed',
            data: {
              customerId: victim.customerId,
              subscriptionId: null,
              amount: 2900,
              currency: 'EUR',
              purpose: 'registration',
              periodIndex: 0,
              paymentMethod: { brand: 'visa', last4: '4242' },
              processedAt: now(),
              taxRateBps: 0,
              taxAmount: 0,
              ...data,
            },
            metadata,
          },
        ]);

      // charge_unrecorded: the gateway charged, the platform never wrote it down
      const unrecorded = await charge(`planted-${uuidv7()}`, victim.customerId);
      // charge_recorded_twice: a second payment claims the victim's charge
      await processed({ paymentId: uuidv7(), gatewayReference: victimPayment.gatewayReference });
      // payment_without_charge: a payment naming a charge the gateway never made
      const ghost = uuidv7();
      await processed({ paymentId: ghost, gatewayReference: 'ch_ghost_never_made' });
      // charge_unsettled: recorded, but billing cannot place it (no such customer): no invoice, no ledger
      const orphanCharge = await charge(`planted-${uuidv7()}`, uuidv7());
      const orphan = uuidv7();
      await processed({ paymentId: orphan, customerId: uuidv7(), gatewayReference: orphanCharge.chargeId });
      // refund_unrecorded: refunded at the gateway, nothing in the log
      const refundedCharge = (await paymentOf(refundedVictim.paymentId)).gatewayReference;
      await gateway.refund({ idempotencyKey: `planted-refund-${uuidv7()}`, chargeId: refundedCharge });
      // refund_not_at_gateway: a refund in the log and the ledger that the gateway never made
      await handleCommand(
        store,
        paymentDecider,
        paymentStream(cancelled.paymentId),
        {
          type: 'RefundPayment',
          data: {
            paymentId: cancelled.paymentId,
            reason: 'planted',
            gatewayReference: 're_planted',
            refundedAt: now(),
          },
        },
        { metadata },
      );
      // refund_not_reversed: refunded at the gateway and in the log, but the ledger refuses the posting (more than the charge)
      const unreversedCharge = (await paymentOf(unreversed.paymentId)).gatewayReference;
      const unreversedRefund = await gateway.refund({
        idempotencyKey: `planted-refund-${uuidv7()}`,
        chargeId: unreversedCharge,
      });
      await store.append(paymentStream(unreversed.paymentId), [
        {
          type: 'PaymentRefunded',
          data: {
            paymentId: unreversed.paymentId,
            customerId: unreversed.customerId,
            subscriptionId: null,
            amount: 9_999,
            currency: 'EUR',
            reason: 'planted',
            gatewayReference: unreversedRefund.refundId,
            refundedAt: now(),
          },
          metadata,
        },
      ]);
      // renewal_after_cancellation: a renewal charged after the subscription was cancelled
      const late = await charge(`planted-${uuidv7()}`, cancelled.customerId);
      const lateRenewal = uuidv7();
      await processed({
        paymentId: lateRenewal,
        customerId: cancelled.customerId,
        subscriptionId: cancelled.subscriptionId,
        purpose: 'renewal',
        periodIndex: 1,
        gatewayReference: late.chargeId,
      });
      // ledger_unbalanced: one line in XTS without its counterpart
      const entry = uuidv7();
      await db.query(
        `insert into journal_entries (id, source_id, kind, part, payment_id, customer_id, currency, description, effective_at, posted_at)
         values ($1, $2, 'charge', 0, $3, $4, 'XTS', 'planted', $5, $5)`,
        [entry, uuidv7(), uuidv7(), victim.customerId, now()],
      );
      await db.query(
        `insert into journal_lines (entry_id, line, account, currency, amount, effective_at) values ($1, 1, '1000', 'XTS', 100, $2)`,
        [entry, now()],
      );
      // registration_unfinished: a registration parked for good
      const parked = uuidv7();
      await db.query(
        `insert into sagas (id, type, status, state, created_at, updated_at) values ($1, 'registration', 'compensation_failed', '{}', $2, $2)`,
        [parked, now()],
      );
      // customer_not_deleted: created, never registered, never deleted
      const stranded = uuidv7();
      const pii = await encrypt(stranded, { email: `s-${stranded}@example.com`, name: 'Stranded' }, db);
      await store.append(customerStream(stranded), [
        {
          type: 'CustomerCreated',
          data: { customerId: stranded, pii, planId: 'pro-monthly', createdAt: now() },
          metadata,
        },
      ]);
      // intent_unsettled: a refund due for an hour that the reconciler will not look at before tomorrow
      await db.query(INTENTS_DDL);
      const intentKey = `planted-intent-${uuidv7()}`;
      // Intents keep the database's time (not the test clock's).
      await db.query(
        `insert into payment_intents (idempotency_key, flow_type, flow_id, payment_id, customer_id, amount, currency, purpose, period_index, attempt,
           payment_method, status, next_attempt_at, created_at, updated_at)
         values ($1, 'registration', $2, $3, $4, 2900, 'EUR', 'registration', 0, 1, 'pm_card_visa', 'refund_due',
           clock_timestamp() + interval '1 day', clock_timestamp() - interval '1 hour', clock_timestamp() - interval '1 hour')`,
        [intentKey, uuidv7(), uuidv7(), victim.customerId],
      );

      const report = await platform.verify({ settleMs: 3_000 });
      expect(report.ok).toBe(false);
      const find = (kind: ViolationKind, ids: Record<string, string>) =>
        report.violations.find(
          (v) =>
            v.kind === kind &&
            Object.entries(ids).every(([k, value]) => (v as unknown as Record<string, string>)[k] === value),
        );
      expect(find('charge_unrecorded', { chargeId: unrecorded.chargeId })).toBeDefined();
      expect(find('charge_recorded_twice', { chargeId: victimPayment.gatewayReference })).toBeDefined();
      expect(find('payment_without_charge', { paymentId: ghost })).toBeDefined();
      expect(find('charge_unsettled', { paymentId: orphan })).toBeDefined();
      expect(find('refund_unrecorded', { paymentId: refundedVictim.paymentId })).toBeDefined();
      expect(find('refund_not_reversed', { paymentId: unreversed.paymentId })).toBeDefined();
      expect(
        find('renewal_after_cancellation', { paymentId: lateRenewal, subscriptionId: cancelled.subscriptionId }),
      ).toBeDefined();
      expect(find('ledger_unbalanced', { currency: 'XTS' })).toBeDefined();
      expect(find('registration_unfinished', { registrationId: parked })).toBeDefined();
      expect(find('customer_not_deleted', { customerId: stranded })).toBeDefined();
      expect(find('intent_unsettled', { idempotencyKey: intentKey })).toBeDefined();
      // The refund the gateway never made is in the log and (once gl-posting took it) in the ledger.
      expect(find('refund_not_at_gateway', { paymentId: cancelled.paymentId })).toBeDefined();

      // The same over HTTP, without waiting.
      const response = await inject('GET', '/admin/verify?settleMs=0');
      expect(response.json().ok).toBe(false);
      const kinds = new Set((response.json().violations as { kind: string }[]).map((v) => v.kind));
      for (const kind of PLANTED) expect(kinds.has(kind), kind).toBe(true);
    });
  });
}

verifySuite('embedded');
verifySuite('distributed');
