import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChurnFeatures } from '../src/domain/churn/churn-features.ts';
import { seedEvents } from '../src/domain/events/index.ts';
import { CustomerTokens, registerAuth } from '../src/http/auth.ts';
import { buildHttpApp } from '../src/http/app.ts';
import { EventCatalog } from '../src/kernel/catalog/catalog.ts';
import { TestClock } from '../src/kernel/clock.ts';
import { loadConfig } from '../src/kernel/config.ts';
import type { Database } from '../src/kernel/db/database.ts';
import { migrate } from '../src/kernel/db/migrate.ts';
import { openPglite } from '../src/kernel/db/pglite.ts';
import { silentLogger } from '../src/kernel/logger.ts';
import { LOG_START, type NewEvent, type RecordedEvent } from '../src/kernel/store/envelope.ts';
import { EventStore } from '../src/kernel/store/event-store.ts';
import { eventStoreMigrations } from '../src/kernel/store/migrations.ts';
import { subscriptionProjection } from '../src/views/subscriptions/subscription-projection.ts';
import { subscriptionQueryRoutes } from '../src/views/subscriptions/subscription-routes.ts';
import { ADMIN_TOKEN, openPlatform, type Mode } from './support/platform-fixture.ts';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const DAY = 86_400_000;
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (days: number) => new Date(T0 + days * DAY).toISOString();
const card = { brand: 'visa', last4: '4242' };

/** One customer's history as the registration saga, the renewal scheduler and dunning append it. */
function history() {
  const customerId = uuidv7();
  const subscriptionId = uuidv7();
  const events: [string, NewEvent][] = [];
  const add = (stream: string, type: string, data: object) => events.push([stream, { type, data }]);
  const base = { customerId, subscriptionId };
  return {
    customerId,
    subscriptionId,
    events,
    register(amount = 2900, currency = 'EUR') {
      const paymentId = uuidv7();
      add(`payment-${paymentId}`, 'PaymentProcessed', {
        paymentId,
        customerId,
        subscriptionId: null,
        amount,
        currency,
        purpose: 'registration',
        periodIndex: 0,
        paymentMethod: card,
        gatewayReference: 'ch_1',
        processedAt: at(0),
        taxRateBps: 0,
        taxAmount: 0,
      });
      add(`subscription-${subscriptionId}`, 'SubscriptionCreated', {
        ...base,
        planId: 'pro-monthly',
        price: { amount, currency },
        interval: 'month',
        currentPeriod: { start: at(0), end: at(31) },
        createdAt: at(0),
      });
      return paymentId;
    },
    renew(periodIndex: number, amount = 2900) {
      const paymentId = uuidv7();
      add(`payment-${paymentId}`, 'PaymentProcessed', {
        paymentId,
        customerId,
        subscriptionId,
        amount,
        currency: 'EUR',
        purpose: 'renewal',
        periodIndex,
        paymentMethod: card,
        gatewayReference: `ch_${periodIndex}`,
        processedAt: at(31 * periodIndex),
        taxRateBps: 0,
        taxAmount: 0,
      });
      add(`subscription-${subscriptionId}`, 'SubscriptionRenewed', {
        ...base,
        planId: 'pro-monthly',
        periodIndex,
        period: { start: at(31 * periodIndex), end: at(31 * (periodIndex + 1)) },
        paymentId,
        amount,
        currency: 'EUR',
        renewedAt: at(31 * periodIndex),
      });
      return paymentId;
    },
    pastDue(periodIndex: number, attempt: number, nextRetryDays: number | null) {
      const paymentId = uuidv7();
      const failedAt = at(31 * periodIndex + attempt);
      add(`payment-${paymentId}`, 'PaymentFailed', {
        paymentId,
        customerId,
        subscriptionId,
        amount: 2900,
        currency: 'EUR',
        purpose: 'renewal',
        declineCode: 'insufficient_funds',
        message: 'no',
        attempt,
        failedAt,
      });
      add(`subscription-${subscriptionId}`, 'SubscriptionPastDue', {
        ...base,
        periodIndex,
        paymentId,
        attempt,
        declineCode: 'insufficient_funds',
        failedAt,
        nextRetryAt: nextRetryDays === null ? null : at(31 * periodIndex + attempt + nextRetryDays),
      });
      return paymentId;
    },
    cancel(requestedAt: string, effectiveAt: string, reason = 'customer_request') {
      add(`subscription-${subscriptionId}`, 'SubscriptionCancelled', {
        ...base,
        reason,
        atPeriodEnd: requestedAt !== effectiveAt,
        requestedAt,
        effectiveAt,
      });
    },
    end(endedAt: string) {
      add(`subscription-${subscriptionId}`, 'SubscriptionEnded', { ...base, reason: 'customer_request', endedAt });
    },
    refund(paymentId: string, amount: number, subscription: string | null) {
      add(`payment-${paymentId}`, 'PaymentRefunded', {
        paymentId,
        customerId,
        subscriptionId: subscription,
        amount,
        currency: 'EUR',
        reason: 'goodwill',
        gatewayReference: `re_${uuidv7()}`,
        refundedAt: at(2),
      });
    },
  };
}

interface ViewFixture {
  db: Database;
  events: RecordedEvent[];
  build(schema: string, batches: RecordedEvent[][]): Promise<Map<string, Record<string, unknown>>>;
}

async function openViewFixture(histories: ReturnType<typeof history>[]): Promise<ViewFixture> {
  const db = await openPglite();
  await migrate(db, eventStoreMigrations);
  const store = new EventStore(db, new EventCatalog(seedEvents), new TestClock(new Date(T0), { frozen: true }));
  // Interleave the customers' histories, one event of each in turn, as a busy log would.
  const queues = histories.map((h) => [...h.events]);
  while (queues.some((queue) => queue.length > 0)) {
    for (const queue of queues) {
      const next = queue.shift();
      if (next) await store.append(next[0], [next[1]]);
    }
  }
  const projection = subscriptionProjection();
  const events = (await store.readAll(LOG_START, { limit: 100_000 })).filter((event) =>
    projection.types.includes(event.type),
  );
  return {
    db,
    events,
    async build(schema, batches) {
      await db.exec(`drop schema if exists ${schema} cascade; create schema ${schema}`);
      await db.exec(projection.tables(schema));
      for (const batch of batches)
        await db.transaction((tx) => projection.apply(batch, { tx, schema, prefetched: undefined }));
      const { rows } = await db.query<Record<string, unknown>>(
        `select * from ${schema}.subscriptions order by subscription_id`,
      );
      return new Map(rows.map((row) => [row.subscription_id as string, row]));
    },
  };
}

describe('the subscription projection, applied directly, and its API with a churn model', () => {
  const renewedThenEnded = history();
  const firstPayment = renewedThenEnded.register();
  renewedThenEnded.renew(1);
  renewedThenEnded.pastDue(2, 1, 2);
  renewedThenEnded.pastDue(2, 3, 2);
  const lastPayment = renewedThenEnded.renew(2);
  renewedThenEnded.cancel(at(70), at(93));
  renewedThenEnded.end(at(93));

  const compensated = history();
  const registrationPayment = compensated.register(900);
  compensated.cancel(at(0.5), at(0.5), 'registration_failed');
  compensated.refund(registrationPayment, 900, null);

  const declined = history();
  declined.events.push([
    `payment-${uuidv7()}`,
    {
      type: 'PaymentFailed',
      data: {
        paymentId: uuidv7(),
        customerId: declined.customerId,
        subscriptionId: null,
        amount: 900,
        currency: 'EUR',
        purpose: 'registration',
        declineCode: 'card_declined',
        message: 'no',
        attempt: 1,
        failedAt: at(0),
      },
    },
  ]);

  const refundedRenewal = history();
  refundedRenewal.register();
  const renewal = refundedRenewal.renew(1);
  refundedRenewal.refund(renewal, 1000, refundedRenewal.subscriptionId);

  const fresh = history();
  const freshPayment = fresh.register(1900);

  const cancelling = history();
  cancelling.register();
  cancelling.cancel(at(5), at(31));

  const running = history();
  running.register();
  running.renew(1);
  running.renew(2);
  running.pastDue(3, 1, 2);

  // A renewal appended twice (the view keeps the first), and a refund in the batch of its payment.
  const replayed = history();
  replayed.register();
  replayed.renew(1);
  const replayedPayment = replayed.renew(1, 3100);
  replayed.refund(replayedPayment, 3100, replayed.subscriptionId);
  replayed.renew(2);
  replayed.pastDue(3, 1, 2);
  replayed.renew(3);

  // A free-text reason with what an array literal must quote, written by a fold and by a patch.
  const quotedReason = 'said "no", {twice} \\ NULL\n';
  const quoted = history();
  quoted.register();
  quoted.renew(1);
  quoted.cancel(at(40), at(40), quotedReason);

  const histories = [
    renewedThenEnded,
    compensated,
    declined,
    refundedRenewal,
    fresh,
    cancelling,
    running,
    replayed,
    quoted,
  ];
  let fixture: ViewFixture;
  let whole: Map<string, Record<string, unknown>>;
  beforeAll(async () => {
    fixture = await openViewFixture(histories);
    whole = await fixture.build('sv_whole', [fixture.events]);
  });
  afterAll(async () => fixture?.db.close());

  it('folds each history into its row, and one batch gives the same rows as one event per batch', async () => {
    const single = await fixture.build(
      'sv_single',
      fixture.events.map((event) => [event]),
    );
    const thirds = Math.ceil(fixture.events.length / 3);
    const split = await fixture.build('sv_split', [
      fixture.events.slice(0, thirds),
      fixture.events.slice(thirds, 2 * thirds),
      fixture.events.slice(2 * thirds),
    ]);
    expect(single).toEqual(whole);
    expect(split).toEqual(whole);
    expect(whole.size).toBe(histories.length - 1); // the declined registration has no subscription

    expect(whole.get(renewedThenEnded.subscriptionId)).toMatchObject({
      customer_id: renewedThenEnded.customerId,
      plan_id: 'pro-monthly',
      status: 'ended',
      price_amount: 2900,
      currency: 'EUR',
      interval: 'month',
      period_index: 2,
      renewals: 2,
      failed_payments: 2,
      cancel_at: null,
      cancellation_reason: 'customer_request',
      cancellation_at_period_end: true,
      last_payment_id: lastPayment,
      last_payment_status: 'processed',
    });
    expect((whole.get(renewedThenEnded.subscriptionId)!.ended_at as Date).toISOString()).toBe(at(93));
    expect(lastPayment).not.toBe(firstPayment);

    expect(whole.get(compensated.subscriptionId)).toMatchObject({
      status: 'cancelled',
      cancellation_reason: 'registration_failed',
      last_payment_id: registrationPayment,
      last_payment_amount: 900,
      last_payment_status: 'refunded',
      last_payment_refunded: 900,
    });
    expect(whole.get(refundedRenewal.subscriptionId)).toMatchObject({
      status: 'active',
      renewals: 1,
      last_payment_id: renewal,
      last_payment_status: 'partially_refunded',
      last_payment_refunded: 1000,
    });
  });

  it('gives the same rows when the later events of a subscription are written without reading its row first', async () => {
    // After its creation a subscription's events are patched onto its row (renewals, payments, dunning,
    // cancellation) unless they need the row: these splits send them down both ways.
    const lastCreated = fixture.events.findLastIndex((event) => event.type === 'SubscriptionCreated');
    const afterCreation = await fixture.build('sv_after_creation', [
      fixture.events.slice(0, lastCreated + 1),
      fixture.events.slice(lastCreated + 1),
    ]);
    const pairs = await fixture.build(
      'sv_pairs',
      Array.from({ length: Math.ceil(fixture.events.length / 2) }, (_, i) => fixture.events.slice(2 * i, 2 * i + 2)),
    );
    expect(afterCreation).toEqual(whole);
    expect(pairs).toEqual(whole);
    expect(whole.get(quoted.subscriptionId)).toMatchObject({ status: 'cancelled', cancellation_reason: quotedReason });
    expect(whole.get(replayed.subscriptionId)).toMatchObject({
      status: 'active',
      period_index: 3,
      renewals: 3,
      failed_payments: 1,
      last_payment_amount: 2900,
      last_payment_status: 'processed',
      last_payment_refunded: 0,
    });
  });

  it('shows the registration charge as the last payment, and a cancellation at period end keeps it active until it ends', () => {
    expect(whole.get(fresh.subscriptionId)).toMatchObject({
      status: 'active',
      renewals: 0,
      failed_payments: 0,
      last_payment_id: freshPayment,
      last_payment_amount: 1900,
      last_payment_status: 'processed',
    });
    const row = whole.get(cancelling.subscriptionId)!;
    expect(row).toMatchObject({ status: 'active', cancellation_at_period_end: true });
    expect((row.cancel_at as Date).toISOString()).toBe(at(31));
  });

  it('scores only running subscriptions, from features built out of the row', async () => {
    const scored: ChurnFeatures[] = [];
    const clock = new TestClock(new Date(T0 + 100.5 * DAY), { frozen: true });
    const tokens = new CustomerTokens(Buffer.alloc(32, 7), clock);
    const app = await buildHttpApp({
      log: silentLogger,
      checks: [],
      asyncApi: () => ({}),
      configure: (http) => registerAuth(http, { adminToken: ADMIN_TOKEN, tokens }),
      routes: [
        subscriptionQueryRoutes({
          config: loadConfig({ ADMIN_TOKEN, LOG_LEVEL: 'silent' }),
          clock,
          log: silentLogger,
          catalog: new EventCatalog(seedEvents),
          db: fixture.db,
          platformDb: fixture.db,
          schema: 'sv_whole',
          waitForPosition: async () => {},
          plans: { get: () => undefined },
          churn: { score: (features) => (scored.push(features), 0.25) },
        }),
      ],
    });
    const get = (url: string, headers: Record<string, string> = admin) => app.inject({ method: 'GET', url, headers });

    const response = await get(`/subscriptions/${running.subscriptionId}`);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({
      status: 'past_due',
      renewals: 2,
      failedPayments: 1,
      churnRisk: 0.25,
      lastPayment: { status: 'failed', amount: 2900 },
    });
    expect(scored).toEqual([
      {
        planId: 'pro-monthly',
        priceAmount: 2900,
        currency: 'EUR',
        interval: 'month',
        tenurePeriods: 3,
        renewals: 2,
        failedPayments: 1,
        daysSinceSignup: 100,
      },
    ]);
    expect((await get(`/subscriptions/${compensated.subscriptionId}`)).json()).toMatchObject({
      status: 'cancelled',
      churnRisk: null,
    });
    expect((await get(`/subscriptions/${renewedThenEnded.subscriptionId}`)).json()).toMatchObject({
      status: 'ended',
      churnRisk: null,
    });
    expect(scored).toHaveLength(1);

    const mine = { authorization: `Bearer ${tokens.issue(running.customerId)}` };
    expect((await get(`/subscriptions/${running.subscriptionId}`, mine)).statusCode).toBe(200);
    expect((await get(`/subscriptions/${compensated.subscriptionId}`, mine)).statusCode).toBe(404);
    expect(
      (await get('/subscriptions', mine)).json().subscriptions.map((s: { subscriptionId: string }) => s.subscriptionId),
    ).toEqual([running.subscriptionId]);
    await app.close();
  });
});

interface Registered {
  customerId: string;
  subscriptionId: string;
  customerToken: string;
  position: number;
}

interface Details {
  subscriptionId: string;
  customerId: string;
  planId: string;
  status: string;
}

function subscriptionApiSuite(mode: Mode) {
  describe(`the Subscription API on ${mode}`, async () => {
    const fixture = await openPlatform(mode);
    const skip = fixture === null;
    afterAll(async () => fixture?.close());

    const inject = (method: 'GET' | 'POST', url: string, payload?: object, headers: Record<string, string> = admin) =>
      fixture!.platform.http.inject({ method, url, payload, headers });
    const get = (url: string, headers: Record<string, string> = admin) => inject('GET', url, undefined, headers);
    const register = async (planId: string): Promise<Registered> => {
      const response = await inject(
        'POST',
        '/register',
        { email: `s-${uuidv7()}@example.com`, name: 'Sub Scriber', planId, paymentMethod: 'pm_card_visa' },
        {},
      );
      expect(response.statusCode, response.body).toBe(201);
      return response.json() as Registered;
    };
    /** The store's last position: what a read after writes without a position of their own (the clock's jobs) waits for. */
    const head = async () =>
      (await fixture!.platform.db.query<{ p: number }>('select coalesce(max(position), 0)::int8 as p from events'))
        .rows[0]!.p;
    const listAll = async (query: string, headers: Record<string, string> = admin) => {
      const found: Details[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < 1000; pages++) {
        const response = await get(`/subscriptions?${query}&limit=3${cursor ? `&cursor=${cursor}` : ''}`, headers);
        expect(response.statusCode, response.body).toBe(200);
        const page = response.json() as { subscriptions: Details[]; nextCursor: string | null };
        found.push(...page.subscriptions);
        cursor = page.nextCursor;
        if (!cursor) break;
      }
      return found;
    };

    it.skipIf(skip)(
      'reads a new subscription at its registration position: plan, price, period, the registration charge as last payment',
      async () => {
        const me = await register('pro-monthly');
        const response = await get(`/subscriptions/${me.subscriptionId}?minPosition=${me.position}`);
        expect(response.statusCode, response.body).toBe(200);
        expect(response.json()).toMatchObject({
          subscriptionId: me.subscriptionId,
          customerId: me.customerId,
          planId: 'pro-monthly',
          status: 'active',
          price: { amount: expect.any(Number), currency: 'EUR' },
          interval: 'month',
          periodIndex: 0,
          currentPeriod: { start: expect.any(String), end: expect.any(String) },
          cancelAt: null,
          cancellation: null,
          renewals: 0,
          failedPayments: 0,
          lastPayment: { paymentId: expect.any(String), currency: 'EUR', status: 'processed', refunded: 0 },
          endedAt: null,
          churnRisk: null,
        });
        const body = response.json();
        expect(body.lastPayment.amount).toBe(body.price.amount);
      },
    );

    it.skipIf(skip)(
      'follows cancellations and renewals, and lists by customer, status and plan, a page at a time',
      async () => {
        const monthly = await register('pro-monthly');
        const atEnd = await register('starter-monthly');
        const now = await register('pro-monthly-usd');
        const cancelAtEnd = await inject('POST', `/subscriptions/${atEnd.subscriptionId}/cancel`, {
          atPeriodEnd: true,
          reason: 'moving on',
        });
        const cancelNow = await inject('POST', `/subscriptions/${now.subscriptionId}/cancel`, { atPeriodEnd: false });
        expect(cancelNow.statusCode, cancelNow.body).toBe(200);

        const endingView = (
          await get(`/subscriptions/${atEnd.subscriptionId}?minPosition=${cancelAtEnd.json().position}`)
        ).json();
        expect(endingView).toMatchObject({
          status: 'active',
          cancelAt: cancelAtEnd.json().cancelAt,
          cancellation: { reason: 'moving on', atPeriodEnd: true },
        });
        expect(
          (await get(`/subscriptions/${now.subscriptionId}?minPosition=${cancelNow.json().position}`)).json(),
        ).toMatchObject({
          status: 'cancelled',
          cancellation: { atPeriodEnd: false },
          churnRisk: null,
          endedAt: expect.any(String),
        });

        // Past the first period's end: the monthly one renews, the one cancelled at period end ends.
        const advance = await inject('POST', '/admin/clock/advance', { days: 32 });
        expect(advance.statusCode, advance.body).toBe(200);
        const position = await head();
        const renewed = (await get(`/subscriptions/${monthly.subscriptionId}?minPosition=${position}`)).json();
        expect(renewed).toMatchObject({
          status: 'active',
          periodIndex: 1,
          renewals: 1,
          lastPayment: { status: 'processed' },
        });
        expect((await get(`/subscriptions/${atEnd.subscriptionId}?minPosition=${position}`)).json()).toMatchObject({
          status: 'ended',
          cancelAt: null,
          endedAt: cancelAtEnd.json().cancelAt,
        });

        const ours = [monthly, atEnd, now].map((r) => r.subscriptionId);
        const all = await listAll(`minPosition=${position}`);
        expect(new Set(all.map((s) => s.subscriptionId)).size).toBe(all.length);
        expect(all.map((s) => s.subscriptionId).filter((id) => ours.includes(id))).toEqual(ours);
        expect((await listAll(`customerId=${atEnd.customerId}`)).map((s) => s.subscriptionId)).toEqual([
          atEnd.subscriptionId,
        ]);
        const ended = await listAll('status=ended');
        expect(ended.every((s) => s.status === 'ended')).toBe(true);
        expect(ended.map((s) => s.subscriptionId)).toContain(atEnd.subscriptionId);
        const usd = await listAll('planId=pro-monthly-usd');
        expect(usd.every((s) => s.planId === 'pro-monthly-usd')).toBe(true);
        expect(usd.map((s) => s.subscriptionId)).toContain(now.subscriptionId);
        expect(await listAll(`planId=pro-monthly&status=cancelled&customerId=${monthly.customerId}`)).toEqual([]);
      },
    );

    it.skipIf(skip)('a customer token reads and lists only its own subscriptions', async () => {
      const me = await register('pro-monthly');
      const other = await register('pro-monthly');
      const mine = { authorization: `Bearer ${me.customerToken}` };
      const minPosition = Math.max(me.position, other.position);
      expect((await get(`/subscriptions/${me.subscriptionId}?minPosition=${minPosition}`, mine)).statusCode).toBe(200);
      for (const id of [other.subscriptionId, uuidv7()]) {
        const response = await get(`/subscriptions/${id}?minPosition=${minPosition}`, mine);
        expect(response.statusCode).toBe(404);
        expect(response.headers['content-type']).toContain('application/problem+json');
      }
      expect((await listAll(`minPosition=${minPosition}`, mine)).map((s) => s.subscriptionId)).toEqual([
        me.subscriptionId,
      ]);
      // Another customer's id narrows the customer's own list to nothing.
      expect(await listAll(`customerId=${other.customerId}`, mine)).toEqual([]);
      expect((await get(`/subscriptions/${me.subscriptionId}`, {})).statusCode).toBe(401);
      expect((await get('/subscriptions', {})).statusCode).toBe(401);
    });

    it
      .skipIf(skip)
      .each([
        '/subscriptions?limit=0',
        '/subscriptions?limit=1000',
        '/subscriptions?status=paused',
        '/subscriptions?customerId=nope',
        '/subscriptions?planId=bad%20plan',
        '/subscriptions?cursor=eyJ0IjoxfQ',
        '/subscriptions?minPosition=1.5',
        '/subscriptions?colour=red',
        '/subscriptions/123',
      ])('answers 400 problem+json to %s', async (url) => {
      const response = await get(url);
      expect(response.statusCode, response.body).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
    });
  });
}

subscriptionApiSuite('embedded');
subscriptionApiSuite('distributed');
