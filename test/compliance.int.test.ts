import { v7 as uuidv7 } from 'uuid';
import { afterAll, describe, expect, it } from 'vitest';
import type { Pii } from '../src/domain/events/common.ts';
import { findRecipient } from '../src/reactions/email/recipients.ts';
import { decrypt, shred } from '../src/kernel/crypto/personal-data.ts';
import { ADMIN_TOKEN, openPlatform, type Mode } from './support/platform-fixture.ts';
import { waitFor } from './support/wait-for.ts';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface Finding {
  id: string;
  kind: 'no_charge_after_cancellation' | 'cancellation_took_effect' | 'data_retention';
  customerId: string;
  subscriptionId: string | null;
  effectiveAt: string;
  status: 'pending' | 'passed' | 'violated';
  evidence: Record<string, unknown> | null;
}

function complianceSuite(mode: Mode) {
  describe(`crypto-shredding, erasure and compliance checks on ${mode}`, async () => {
    // The real consumers (email, billing, audit, compliance-check) run, as in production.
    const fixture = await openPlatform(
      mode,
      { COMPLIANCE_GRACE_HOURS: '24', RETENTION_DAYS: '30' },
      { consumers: undefined },
    );
    const skip = fixture === null;
    afterAll(async () => fixture?.close());

    const inject = (method: 'GET' | 'POST', url: string, payload?: object, headers: Record<string, string> = admin) =>
      fixture!.platform.http.inject({ method, url, payload, headers });
    const register = async (email: string, name: string, planId = 'pro-monthly') => {
      const response = await inject('POST', '/register', { email, name, planId, paymentMethod: 'pm_card_visa' }, {});
      expect(response.statusCode, response.body).toBe(201);
      return response.json() as { customerId: string; subscriptionId: string; paymentId: string; position: number };
    };
    const now = async () => (await inject('GET', '/admin/clock')).json().now as string;
    const advance = async (ms: number) => {
      const response = await inject('POST', '/admin/clock/advance', {
        to: new Date(Date.parse(await now()) + ms).toISOString(),
      });
      expect(response.statusCode, response.body).toBe(200);
    };
    const findings = async (query: string): Promise<Finding[]> => {
      const response = await inject('GET', `/compliance/findings?${query}`);
      expect(response.statusCode, response.body).toBe(200);
      return (response.json() as { findings: Finding[] }).findings;
    };
    /** The obligations compliance-check recorded for a subscription's cancellation (the consumer runs asynchronously). */
    const obligationsOf = (subscriptionId: string) =>
      waitFor(`the obligations of ${subscriptionId}`, async () => {
        const pending = await findings(`status=pending&subscriptionId=${subscriptionId}`);
        return pending.length >= 2 && pending;
      });
    /** The store's last position: reads after writes that return none (erasure's cancellations, the retention job) wait for it. */
    const head = async () =>
      (await fixture!.platform.db.query<{ p: number }>('select coalesce(max(position), 0)::int8 as p from events'))
        .rows[0]!.p;
    const eventsJson = async (needle: string) =>
      (
        await fixture!.platform.db.query<{ n: number }>(
          `select count(*)::int8 as n from events where position(lower($1) in lower(data::text)) > 0`,
          [needle],
        )
      ).rows[0]!.n;

    it.skipIf(skip)(
      'keeps no clear email or name in the event log or the email claims, and still shows them to the customer',
      async () => {
        const email = `pii-${uuidv7()}@example.com`;
        const name = `Zoe Quux${uuidv7().slice(-8)}`;
        const customer = await register(email, name);
        expect(Number(await eventsJson(email))).toBe(0);
        expect(Number(await eventsJson(name))).toBe(0);
        const { rows: claims } = await fixture!.platform.db.query<{ email: string }>(
          'select email from customer_emails where customer_id = $1',
          [customer.customerId],
        );
        expect(claims).toHaveLength(1);
        expect(claims[0]!.email).not.toContain('@');
        const { rows: created } = await fixture!.platform.db.query<{ data: { pii: Pii }; schema_version: number }>(
          `select data, schema_version from events where stream_id = $1 and type = 'CustomerCreated'`,
          [`customer-${customer.customerId}`],
        );
        expect(created[0]).toMatchObject({ schema_version: 2, data: { pii: { alg: 'A256GCM' } } });

        const shown = await inject('GET', `/customers/${customer.customerId}?minPosition=${customer.position}`);
        expect(shown.statusCode, shown.body).toBe(200);
        expect(shown.json()).toMatchObject({ customerId: customer.customerId, email, name, status: 'registered' });
        // The same address again is still a conflict (the claim is a keyed hash of the normalised address).
        const again = await inject(
          'POST',
          '/register',
          { email: email.toUpperCase(), name, planId: 'pro-monthly', paymentMethod: 'pm_card_visa' },
          {},
        );
        expect(again.statusCode, again.body).toBe(409);
      },
    );

    it.skipIf(skip)(
      'erases on request: key gone, CustomerDeleted, subscription cancelled, GET 404, no more emails; idempotent',
      async () => {
        const email = `erase-${uuidv7()}@example.com`;
        const customer = await register(email, 'Eve Erased');
        await waitFor('the welcome email', async () => {
          const { rows } = await fixture!.platform.db.query(
            `select 1 from notifications where customer_id = $1 and type = 'welcome-email'`,
            [customer.customerId],
          );
          return rows.length === 1;
        });

        expect((await inject('POST', `/customers/${customer.customerId}/erase`, undefined, {})).statusCode).toBe(401);
        const erased = await inject('POST', `/customers/${customer.customerId}/erase`);
        expect(erased.statusCode, erased.body).toBe(200);
        expect(erased.json()).toMatchObject({
          customerId: customer.customerId,
          keyDeleted: true,
          cancelledSubscriptions: [customer.subscriptionId],
        });
        expect(erased.json().deletedPosition).toEqual(expect.any(Number));
        const repeat = await inject('POST', `/customers/${customer.customerId}/erase`);
        expect(repeat.json()).toEqual({
          customerId: customer.customerId,
          keyDeleted: false,
          deletedPosition: null,
          cancelledSubscriptions: [],
        });
        expect((await inject('POST', `/customers/${uuidv7()}/erase`)).statusCode).toBe(404);

        expect(
          (await inject('GET', `/customers/${customer.customerId}?minPosition=${erased.json().deletedPosition}`))
            .statusCode,
        ).toBe(404);
        // The cancellations follow the deletion, each in a transaction of its own: read at the store's head.
        expect(
          (await inject('GET', `/subscriptions/${customer.subscriptionId}?minPosition=${await head()}`)).json(),
        ).toMatchObject({ status: 'cancelled', cancellation: { atPeriodEnd: false, reason: 'customer_erased' } });
        const stream = await fixture!.platform.store.readStream(`customer-${customer.customerId}`);
        expect(stream.map((event) => event.type)).toEqual(['CustomerCreated', 'CustomerRegistered', 'CustomerDeleted']);
        expect(stream[2]!.data).toMatchObject({ reason: 'erasure' });
        for (const event of stream.slice(0, 2))
          expect(await decrypt(customer.customerId, (event.data as { pii: Pii }).pii, fixture!.platform.db)).toBeNull();
        // The notification log follows customer.deleted (its own consumer): the sealed address and its hash go.
        await waitFor('the notification log to forget the address', async () => {
          const { rows: log } = await fixture!.platform.db.query<{
            to_address: string | null;
            to_digest: string | null;
          }>('select to_address, to_digest from notifications where customer_id = $1', [customer.customerId]);
          return log.length > 0 && log.every((row) => row.to_address === null && row.to_digest === null);
        });
        // Erasure is a saga of its own: each request ran one, and they say which steps ran.
        const { rows: erasures } = await fixture!.platform.db.query<{ status: string; state: Record<string, unknown> }>(
          `select status, state from sagas where type = 'erasure' and state->>'customerId' = $1 order by id`,
          [customer.customerId],
        );
        expect(erasures.map((row) => row.status)).toEqual(['completed', 'completed']);
        expect(erasures[0]!.state).toMatchObject({
          keyDeleted: true,
          cancelledSubscriptions: [customer.subscriptionId],
        });
        const { rows: sagas } = await fixture!.platform.db.query<{ state: Record<string, unknown> }>(
          `select state from sagas where type = 'registration' and state->>'customerId' = $1`,
          [customer.customerId],
        );
        expect(sagas).toHaveLength(1);
        expect(sagas[0]!.state).not.toHaveProperty('email');
        expect(sagas[0]!.state).not.toHaveProperty('name');
        // The address is free again.
        await register(email, 'Eve Again');
      },
    );

    it.skipIf(skip)('sends nothing to a customer whose key is gone', async () => {
      const customer = await register(`shred-${uuidv7()}@example.com`, 'Sam Shred');
      await fixture!.platform.db.transaction((tx) => shred(customer.customerId, tx));
      expect(
        await fixture!.platform.db.transaction((tx) => findRecipient(fixture!.platform.store, tx, customer.customerId)),
      ).toEqual({ reachable: false, customerId: customer.customerId, reason: 'customer_deleted' });
      // A key shredded without CustomerDeleted is no erasure the view hears of; rebuilt, it finds nothing to decrypt.
      await fixture!.platform.projections.find((projection) => projection.name === 'customers')!.rebuild();
      expect(
        (await inject('GET', `/customers/${customer.customerId}?minPosition=${customer.position}`)).json(),
      ).toMatchObject({ customerId: customer.customerId, email: null, name: null });
    });

    it.skipIf(skip)(
      'finds a planted charge after a cancellation, passes a clean one, and erases after the retention period',
      async () => {
        const planted = await register(`planted-${uuidv7()}@example.com`, 'Pat Planted');
        const clean = await register(`clean-${uuidv7()}@example.com`, 'Cleo Clean');
        const cancelNow = await inject('POST', `/subscriptions/${planted.subscriptionId}/cancel`, {
          atPeriodEnd: false,
        });
        expect(cancelNow.statusCode, cancelNow.body).toBe(200);
        const cancelAtEnd = await inject('POST', `/subscriptions/${clean.subscriptionId}/cancel`, {
          atPeriodEnd: true,
        });
        expect(cancelAtEnd.statusCode, cancelAtEnd.body).toBe(200);
        const periodEnd = cancelAtEnd.json().cancelAt as string;
        await obligationsOf(planted.subscriptionId);
        await obligationsOf(clean.subscriptionId);

        // The planted violation: a charge for the cancelled subscription after its effectiveAt, straight into the store.
        const paymentId = uuidv7();
        const processedAt = new Date(Date.parse(await now()) + HOUR).toISOString();
        await fixture!.platform.store.append(`payment-${paymentId}`, [
          {
            type: 'PaymentProcessed',
            data: {
              paymentId,
              customerId: planted.customerId,
              subscriptionId: planted.subscriptionId,
              amount: 2900,
              currency: 'EUR',
              purpose: 'renewal',
              periodIndex: 1,
              paymentMethod: { brand: 'visa', last4: '4242' },
              gatewayReference: 'ch_planted',
              processedAt,
              taxRateBps: 0,
              taxAmount: 0,
            },
          },
        ]);

        expect(await findings(`subscriptionId=${planted.subscriptionId}`)).toEqual([]); // not due before effectiveAt + grace
        await advance(25 * HOUR);
        const plantedFindings = await findings(`subscriptionId=${planted.subscriptionId}`);
        const charge = plantedFindings.find((finding) => finding.kind === 'no_charge_after_cancellation')!;
        expect(charge.status).toBe('violated');
        expect(charge.evidence).toMatchObject({
          chargesAfterEffectiveAt: [{ paymentId, amount: 2900, currency: 'EUR', processedAt }],
        });
        expect(plantedFindings.find((finding) => finding.kind === 'cancellation_took_effect')).toMatchObject({
          status: 'passed',
          evidence: { promised: 'immediately', status: 'cancelled' },
        });
        expect((await findings('status=violated')).map((finding) => finding.id)).toContain(charge.id);
        const metrics = await inject('GET', '/metrics');
        expect(metrics.body).toMatch(
          /tributary_compliance_violations_total\{obligation="no_charge_after_cancellation"\} [1-9]/,
        );

        // The clean one is due a day after its period end; the scheduler ends it at the period end.
        expect(await findings(`subscriptionId=${clean.subscriptionId}`)).toEqual([]);
        await advance(Date.parse(periodEnd) + 25 * HOUR - Date.parse(await now()));
        const cleanFindings = await waitFor('the clean findings', async () => {
          const found = await findings(`subscriptionId=${clean.subscriptionId}&kind=cancellation_took_effect`);
          return found.length === 1 && found;
        });
        expect(cleanFindings[0]).toMatchObject({
          status: 'passed',
          evidence: { promised: 'at_period_end', status: 'ended', endedAt: periodEnd, renewalsAfterEffectiveAt: [] },
        });
        expect(
          (await findings(`subscriptionId=${clean.subscriptionId}&kind=no_charge_after_cancellation`))[0],
        ).toMatchObject({ status: 'passed' });

        // Retention: 30 days after the last subscription ended the personal data is shredded.
        expect((await inject('GET', `/customers/${clean.customerId}?minPosition=${await head()}`)).statusCode).toBe(
          200,
        );
        expect(await findings(`customerId=${clean.customerId}&kind=data_retention`)).toEqual([]);
        await advance(31 * DAY);
        const retention = await findings(`kind=data_retention&status=passed`);
        for (const customer of [planted, clean]) {
          expect(
            retention.find((finding) => finding.customerId === customer.customerId),
            customer.customerId,
          ).toMatchObject({ status: 'passed', evidence: { keyDeleted: true, keyRemains: false } });
          expect(
            (await inject('GET', `/customers/${customer.customerId}?minPosition=${await head()}`)).statusCode,
          ).toBe(404);
          const stream = await fixture!.platform.store.readStream(`customer-${customer.customerId}`);
          expect(stream.at(-1)).toMatchObject({ type: 'CustomerDeleted', data: { reason: 'erasure' } });
          expect(
            await decrypt(customer.customerId, (stream[0]!.data as { pii: Pii }).pii, fixture!.platform.db),
          ).toBeNull();
        }
      },
    );
  });
}

complianceSuite('embedded');
complianceSuite('distributed');
