import { DeferredWrites } from '../src/kernel/store/deferred-writes.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import type { SimulatedGateway } from '../src/services/payments/gateway/index.ts';
import { registrationSaga, type RegistrationFaults } from '../src/services/registration/registration-saga.ts';
import { ConcurrencyError } from '../src/kernel/store/errors.ts';
import { ADMIN_TOKEN, openPlatform, type Mode, type PlatformFixture } from './support/platform-fixture.ts';
import { waitFor } from './support/wait-for.ts';

const SEED_TOPICS = [
  'customer.registered',
  'payment.processed',
  'subscription.created',
  'subscription.renewed',
  'subscription.cancelled',
];

const body = (overrides: Record<string, unknown> = {}) => ({
  email: `ann-${uuidv7()}@example.com`,
  name: 'Ann Example',
  planId: 'pro-monthly',
  paymentMethod: 'pm_card_visa',
  ...overrides,
});

function registrationSuite(mode: Mode) {
  describe(`registration on ${mode}`, async () => {
    const faults: RegistrationFaults = {};
    const fixture = (await openPlatform(mode, {}, { faults })) as PlatformFixture;
    const skip = fixture === null;
    afterAll(async () => fixture?.close());

    const register = (payload: unknown, headers: Record<string, string> = {}) =>
      fixture.platform.http.inject({
        method: 'POST',
        url: '/register',
        payload: payload as object,
        headers: { 'content-type': 'application/json', ...headers },
      });
    // The customer's, payment's and subscription's events; the registration's own history is historyOf.
    const eventsOf = async (customerId: string) =>
      (
        await fixture.platform.db.query<{ type: string }>(
          `select type from events where partition_key = $1 and stream_id not like 'registration-%' order by position`,
          [customerId],
        )
      ).rows.map((row) => row.type);
    const historyOf = async (registrationId: string) =>
      (await fixture.platform.store.readStream(`registration-${registrationId}`)).map((event) => event.type);
    const eventCount = async () =>
      (await fixture.platform.db.query<{ n: number }>('select count(*)::int8 as n from events')).rows[0]!.n;
    const seedMessagesOf = (customerId: string) =>
      fixture.delivered
        .filter((message) => message.key === customerId && SEED_TOPICS.includes(message.topic))
        .map((message) => message.topic)
        .sort();
    const gateway = () => fixture.platform.gateway as SimulatedGateway;

    it.skipIf(skip)('lists the plans: monthly, yearly and a second currency', async () => {
      const response = await fixture.platform.http.inject({ method: 'GET', url: '/plans' });
      const { plans } = response.json() as { plans: { id: string; interval: string; currency: string }[] };
      expect(plans.some((plan) => plan.interval === 'month')).toBe(true);
      expect(plans.some((plan) => plan.interval === 'year')).toBe(true);
      expect(new Set(plans.map((plan) => plan.currency)).size).toBeGreaterThan(1);
      expect((await fixture.platform.http.inject({ method: 'GET', url: '/plans/pro-yearly' })).json()).toMatchObject({
        id: 'pro-yearly',
        interval: 'year',
      });
      const missing = await fixture.platform.http.inject({ method: 'GET', url: '/plans/nope' });
      expect(missing.statusCode).toBe(404);
      expect(missing.headers['content-type']).toContain('application/problem+json');
    });

    it.skipIf(skip)(
      'registers: 201, the customer, the charge and the subscription, and the seed topics get exactly their events',
      async () => {
        const response = await register(body(), { 'idempotency-key': uuidv7() });
        expect(response.statusCode).toBe(201);
        const created = response.json();
        expect(created).toMatchObject({
          status: 'completed',
          registrationId: expect.any(String),
          customerId: expect.any(String),
          subscriptionId: expect.any(String),
          paymentId: expect.any(String),
          position: expect.any(Number),
          customerToken: expect.stringMatching(/^ct_/),
        });
        expect(response.headers.location).toBe(`/customers/${created.customerId}`);
        expect(await eventsOf(created.customerId)).toEqual([
          'CustomerCreated',
          'PaymentProcessed',
          'SubscriptionCreated',
          'CustomerRegistered',
        ]);
        expect(await historyOf(created.registrationId)).toEqual([
          'RegistrationStarted',
          'RegistrationCustomerCreated',
          'RegistrationPaymentCharged',
          'RegistrationSubscriptionCreated',
          'RegistrationCompleted',
        ]);
        await waitFor('the seed events on the bus', () => seedMessagesOf(created.customerId).length === 3);
        expect(seedMessagesOf(created.customerId)).toEqual([
          'customer.registered',
          'payment.processed',
          'subscription.created',
        ]);
        const message = fixture.delivered.find(
          (m) => m.key === created.customerId && m.topic === 'customer.registered',
        )!;
        expect(message.headers).toMatchObject({
          ce_specversion: '1.0',
          ce_type: 'CustomerRegistered',
          ce_source: '/tributary',
          'content-type': 'application/json',
        });
        expect(message.headers.ce_id).toMatch(/^[0-9a-f-]{36}$/);
        expect(Date.parse(message.headers.ce_time!)).not.toBeNaN();
      },
    );

    it.skipIf(skip).each([
      ['pm_card_chargeDeclined', 'generic_decline'],
      ['pm_card_chargeDeclinedInsufficientFunds', 'insufficient_funds'],
      ['pm_card_chargeDeclinedExpiredCard', 'expired_card'],
    ])(
      'answers 402 for %s, deletes the customer, and publishes no CustomerRegistered',
      async (paymentMethod, declineCode) => {
        const payload = body({ paymentMethod });
        const response = await register(payload);
        expect(response.statusCode).toBe(402);
        expect(response.headers['content-type']).toContain('application/problem+json');
        const problem = response.json();
        expect(problem).toMatchObject({ status: 402, declineCode, registrationId: expect.any(String) });
        const registration = await fixture.platform.registrations.get(problem.registrationId);
        expect(registration?.status).toBe('compensated');
        const customerId = registration!.state.customerId;
        expect(await eventsOf(customerId)).toEqual(['CustomerCreated', 'PaymentFailed', 'CustomerDeleted']);
        expect(await historyOf(problem.registrationId)).toEqual([
          'RegistrationStarted',
          'RegistrationCustomerCreated',
          'RegistrationPaymentDeclined',
          'RegistrationCompensating',
          'RegistrationCompensated',
        ]);
        await waitFor('the failure on the bus', () =>
          fixture.delivered.some((m) => m.key === customerId && m.topic === 'customer.deleted'),
        );
        expect(seedMessagesOf(customerId)).toEqual([]);
        // The email is free again.
        expect((await register({ ...payload, paymentMethod: 'pm_card_mastercard' })).statusCode).toBe(201);
      },
    );

    it.skipIf(skip)('returns the same answer to a retried request, and refuses the key with another body', async () => {
      const key = uuidv7();
      const payload = body();
      const first = await register(payload, { 'idempotency-key': key });
      const again = await register(payload, { 'idempotency-key': key });
      expect(again.statusCode).toBe(first.statusCode);
      expect(again.json()).toEqual(first.json());
      const other = await register({ ...payload, name: 'Someone Else' }, { 'idempotency-key': key });
      expect(other.statusCode).toBe(422);
      expect(other.json()).toMatchObject({ status: 422, field: 'Idempotency-Key' });
    });

    it.skipIf(skip)(
      'gives 50 concurrent requests with one key one customer, one charge and identical answers',
      async () => {
        const key = uuidv7();
        const payload = body();
        const responses = await Promise.all(
          Array.from({ length: 50 }, () => register(payload, { 'idempotency-key': key })),
        );
        expect(new Set(responses.map((response) => response.statusCode))).toEqual(new Set([201]));
        expect(new Set(responses.map((response) => response.body)).size).toBe(1);
        const { registrationId, customerId } = responses[0]!.json();
        expect((await eventsOf(customerId)).filter((type) => type === 'CustomerCreated')).toHaveLength(1);
        expect(gateway().chargesFor(`${registrationId}:charge`)).toBe(1);
      },
    );

    it.skipIf(skip)('refuses bad input with problem+json naming the field, and writes nothing', async () => {
      const before = await eventCount();
      const cases: [unknown, number, string | null][] = [
        [{ email: 'a@example.com', name: 'A', planId: 'pro-monthly' }, 400, 'paymentMethod'],
        [body({ email: 'not-an-email' }), 400, 'email'],
        [body({ name: 42 }), 400, 'name'],
        [body({ planId: 'no-such-plan' }), 422, 'planId'],
        [body({ paymentMethod: 'pm_card_unknown' }), 422, 'paymentMethod'],
        [body({ paymentMethod: '4242424242424242' }), 422, 'paymentMethod'],
      ];
      for (const [payload, status, field] of cases) {
        const response = await register(payload);
        expect(response.statusCode, JSON.stringify(payload)).toBe(status);
        expect(response.headers['content-type']).toContain('application/problem+json');
        expect(response.json()).toMatchObject({ status, field });
      }
      const malformed = await fixture.platform.http.inject({
        method: 'POST',
        url: '/register',
        payload: '{"email": ',
        headers: { 'content-type': 'application/json' },
      });
      expect(malformed.statusCode).toBe(400);
      expect(malformed.headers['content-type']).toContain('application/problem+json');
      const huge = await register(body({ name: 'x'.repeat(70 * 1024) }));
      expect(huge.statusCode).toBe(413);
      expect(huge.headers['content-type']).toContain('application/problem+json');
      expect(await eventCount()).toBe(before);
    });

    it.skipIf(skip)(
      'answers 409 for an email that belongs to an active customer, with no registration started',
      async () => {
        const payload = body();
        expect((await register(payload)).statusCode).toBe(201);
        const sagas = async () => (await fixture.platform.db.query('select id from sagas')).rows.length;
        const [events, started] = [await eventCount(), await sagas()];
        for (const headers of [{}, { 'idempotency-key': uuidv7() }] as Record<string, string>[]) {
          const again = await register({ ...payload, email: payload.email.toUpperCase() }, headers);
          expect(again.statusCode).toBe(409);
          expect(again.json()).toMatchObject({ status: 409, field: 'email' });
        }
        expect([await eventCount(), await sagas()]).toEqual([events, started]);
      },
    );

    it.skipIf(skip)(
      'gives concurrent registrations of one email under different keys one customer and a 409',
      async () => {
        const pairs = await Promise.all(
          Array.from({ length: 5 }, async () => {
            const payload = body();
            return Promise.all([0, 1].map(() => register(payload, { 'idempotency-key': uuidv7() })));
          }),
        );
        for (const pair of pairs) {
          expect(pair.map((response) => response.statusCode).sort()).toEqual([201, 409]);
          const loser = pair.find((response) => response.statusCode === 409)!.json();
          expect(loser).toMatchObject({ status: 409 });
          // Refused by its saga (the email claimed while it ran): compensated, nothing of it kept.
          if (loser.registrationId) {
            const registration = await fixture.platform.registrations.get(loser.registrationId);
            expect(registration?.status).toBe('compensated');
            expect(await eventsOf(registration!.state.customerId)).not.toContain('CustomerRegistered');
          }
        }
      },
    );

    it.skipIf(skip)('charges once when the gateway times out after charging', async () => {
      gateway().failNext(1, 'timeout-after-charge');
      const response = await register(body());
      expect(response.statusCode).toBe(201);
      expect(gateway().chargesFor(`${response.json().registrationId}:charge`)).toBe(1);
    });

    it.skipIf(skip)('refunds the charge and deletes the customer when the subscription step fails', async () => {
      faults.failSubscriptionStep = true;
      try {
        const response = await register(body());
        expect(response.statusCode).toBe(503);
        const registration = await fixture.platform.registrations.get(response.json().registrationId);
        expect(registration?.status).toBe('compensated');
        expect(await eventsOf(registration!.state.customerId)).toEqual([
          'CustomerCreated',
          'PaymentProcessed',
          'PaymentRefunded',
          'CustomerDeleted',
        ]);
        const history = await fixture.platform.store.readStream(`registration-${registration!.id}`);
        expect(history.map((event) => event.type)).toEqual([
          'RegistrationStarted',
          'RegistrationCustomerCreated',
          'RegistrationPaymentCharged',
          'RegistrationCompensating',
          'RegistrationCompensated',
        ]);
        expect(history[3]!.data).toMatchObject({
          failedStep: 'create_subscription',
          compensations: ['refund_payment', 'delete_customer'],
        });
      } finally {
        faults.failSubscriptionStep = false;
      }
    });

    it.skipIf(skip)(
      'a customer erased while its first charge is in flight: the registration refunds and stays erased',
      async () => {
        gateway().setLatency(400);
        try {
          const started = register(body(), { 'idempotency-key': uuidv7() });
          const pending = await waitFor('the pending customer', async () => {
            const { rows } = await fixture.platform.db.query<{ partition_key: string }>(
              `select partition_key from events where type = 'CustomerCreated' order by position desc limit 1`,
            );
            const customerId = rows[0]?.partition_key;
            return customerId && (await eventsOf(customerId)).length === 1 ? customerId : null;
          });
          const erased = await fixture.platform.http.inject({
            method: 'POST',
            url: `/customers/${pending}/erase`,
            headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
          });
          expect(erased.statusCode, erased.body).toBe(200);
          const response = await started;
          // activate found the stream changed since create-customer, read it again, and could not register.
          expect(response.statusCode, response.body).toBe(503);
          expect(await eventsOf(pending)).toEqual([
            'CustomerCreated',
            'CustomerDeleted',
            'PaymentProcessed',
            'PaymentRefunded',
          ]);
        } finally {
          gateway().setLatency(0);
        }
      },
    );

    it.skipIf(skip)(
      'activate run again over what it made (a saga from before it was one step): the retry reads and adds nothing',
      async () => {
        const created = (await register(body())).json();
        const { platform } = fixture;
        const { state } = (await platform.registrations.get(created.registrationId))!;
        const saga = registrationSaga({ ...platform, taxRateBps: 0 });
        const activate = saga.steps.find((step) => step.name === 'activate')!;
        const context = (attempt: number, writes: DeferredWrites) => ({
          sagaId: created.registrationId,
          state,
          idempotencyKey: 'x',
          attempt,
          writes,
        });
        const before = await eventsOf(created.customerId);
        // The first attempt trusts that it makes the streams: its appends, made with the checkpoint, fail.
        const first = new DeferredWrites();
        expect(await platform.db.transaction((tx) => activate.run(context(1, first), tx))).toEqual({ ok: {} });
        await expect(platform.store.appendMany(first.appends)).rejects.toBeInstanceOf(ConcurrencyError);
        const retry = new DeferredWrites();
        expect(await platform.db.transaction((tx) => activate.run(context(2, retry), tx))).toEqual({ ok: {} });
        expect(retry.appends).toEqual([]);
        expect(await eventsOf(created.customerId)).toEqual(before);
      },
    );

    it.skipIf(skip)('shows a registration to its customer and the admin only', async () => {
      const mine = (await register(body())).json();
      const theirs = (await register(body())).json();
      const get = (id: string, token?: string) =>
        fixture.platform.http.inject({
          method: 'GET',
          url: `/registrations/${id}`,
          headers: token ? { authorization: `Bearer ${token}` } : {},
        });
      const own = await get(mine.registrationId, mine.customerToken);
      expect(own.statusCode).toBe(200);
      expect(own.json()).toMatchObject({
        registrationId: mine.registrationId,
        status: 'completed',
        customerId: mine.customerId,
      });
      expect(own.json().steps.map((step: { step: string }) => step.step)).toEqual([
        'create-customer',
        'charge',
        'activate',
      ]);
      expect((await get(theirs.registrationId, mine.customerToken)).statusCode).toBe(404);
      expect((await get(mine.registrationId)).statusCode).toBe(401);
      expect((await get(mine.registrationId, 'ct_forged.token')).statusCode).toBe(401);
      expect((await get(mine.registrationId, ADMIN_TOKEN)).statusCode).toBe(200);
      expect((await get(uuidv7(), ADMIN_TOKEN)).statusCode).toBe(404);
    });
  });
}

registrationSuite('embedded');
registrationSuite('distributed');

describe('registration limits and slow sagas', () => {
  let fixture: PlatformFixture;
  beforeAll(async () => {
    fixture = (await openPlatform('embedded', { REGISTER_RATE_LIMIT: '3', REGISTER_WAIT_MS: '100' }))!;
  });
  afterAll(async () => fixture?.close());

  it('answers 202 with the registration to poll when the saga takes longer than the wait', async () => {
    (fixture.platform.gateway as SimulatedGateway).setLatency(500);
    const response = await fixture.platform.http.inject({ method: 'POST', url: '/register', payload: body() });
    (fixture.platform.gateway as SimulatedGateway).setLatency(0);
    expect(response.statusCode).toBe(202);
    const { registrationId } = response.json();
    expect(response.headers.location).toBe(`/registrations/${registrationId}`);
    await waitFor(
      'the saga to finish',
      async () => (await fixture.platform.registrations.get(registrationId))?.status === 'completed',
    );
  });

  it('rate-limits POST /register per client address with 429 problem+json', async () => {
    const statuses = [];
    for (let n = 0; n < 4; n++)
      statuses.push(
        (await fixture.platform.http.inject({ method: 'POST', url: '/register', payload: body({ planId: 'nope' }) }))
          .statusCode,
      );
    expect(statuses.slice(0, 2)).toEqual([422, 422]);
    const limited = await fixture.platform.http.inject({ method: 'POST', url: '/register', payload: body() });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toContain('application/problem+json');
  });
});
