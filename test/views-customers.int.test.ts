import { v7 as uuidv7 } from 'uuid';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/kernel/db/migrate.ts';
import { openPglite } from '../src/kernel/db/pglite.ts';
import { EventCatalog } from '../src/kernel/catalog/catalog.ts';
import { TestClock } from '../src/kernel/clock.ts';
import { EventStore } from '../src/kernel/store/event-store.ts';
import { LOG_START } from '../src/kernel/store/envelope.ts';
import { eventStoreMigrations } from '../src/kernel/store/migrations.ts';
import { seedEvents } from '../src/domain/events/index.ts';
import { cryptoMigrations } from '../src/kernel/crypto/migrations.ts';
import { emailDigest, normalizeEmail } from '../src/kernel/crypto/keyed-hash.ts';
import { decryptMany, encrypt, shred, type Pii } from '../src/kernel/crypto/personal-data.ts';
import { customerProjection } from '../src/views/customers/customer-projection.ts';
import { ADMIN_TOKEN, openPlatform, type Mode } from './support/platform-fixture.ts';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

describe('the customer projection, applied directly', () => {
  it('keeps the data sealed with a keyed email hash, opens it with the customer key, clears it on deletion, and a rebuild after erasure finds nothing to decrypt', async () => {
    const db = await openPglite();
    await migrate(db, [...eventStoreMigrations, ...cryptoMigrations]);
    const clock = new TestClock(new Date('2026-01-01T00:00:00Z'), { frozen: true });
    const store = new EventStore(db, new EventCatalog(seedEvents), clock);
    const projection = customerProjection({ platformDb: db });
    const [kept, erased, legacy] = [uuidv7(), uuidv7(), uuidv7()];
    const created = async (customerId: string, email: string) => {
      const pii = await db.transaction((tx) => encrypt(customerId, { email, name: `Name ${email}` }, tx));
      await store.append(`customer-${customerId}`, [
        {
          type: 'CustomerCreated',
          data: { customerId, pii, planId: 'pro-monthly', createdAt: '2026-01-01T00:00:00.000Z' },
        },
        {
          type: 'CustomerRegistered',
          data: { customerId, pii, planId: 'pro-monthly', registeredAt: '2026-01-01T00:00:01.000Z' },
        },
      ]);
    };
    await created(kept, 'Kept@Example.com');
    await created(erased, 'erased@example.com');
    // An event of the oldest schema: clear personal data, no CustomerCreated before it.
    await db.query(
      `insert into events (tx_id, event_id, stream_id, version, type, schema_version, data, metadata, partition_key, occurred_at)
       values (pg_current_xact_id(), $1, $2, 1, 'CustomerRegistered', 1, $3, '{"correlationId":"x","causationId":null,"actor":"test"}', $4, now())`,
      [
        uuidv7(),
        `customer-${legacy}`,
        {
          customerId: legacy,
          email: 'Old@Example.com',
          fullName: 'Old Timer',
          plan: 'starter-monthly',
          createdAt: '2024-06-01T08:00:00.000Z',
        },
        legacy,
      ],
    );

    const build = async (schema: string) => {
      await db.exec(`drop schema if exists ${schema} cascade; create schema ${schema}`);
      await db.exec(projection.tables(schema));
      const events = (await store.readAll(LOG_START, { limit: 10_000 })).filter((event) =>
        projection.types.includes(event.type),
      );
      const prefetched = await projection.prefetch!(events);
      await db.transaction((tx) => projection.apply(events, { tx, schema, prefetched }));
      return read(schema);
    };
    // The view holds the data sealed (and the keyed hash of the email): it is opened here, as the routes open it.
    const read = async (schema: string) => {
      const { rows } = await db.query<{
        customer_id: string;
        pii: Pii | null;
        email_digest: string | null;
        status: string;
        plan_id: string;
        deletion_reason: string | null;
      }>(`select customer_id, pii, email_digest, status, plan_id, deletion_reason from ${schema}.customers`);
      // Legacy events held the data in clear before encryption existed: only those rows show it.
      for (const row of rows.filter((row) => row.pii?.alg !== 'legacy-clear'))
        expect(JSON.stringify(row)).not.toMatch(/@example\.com|Name /i);
      const opened = await decryptMany(
        rows.flatMap((row) => (row.pii ? [{ customerId: row.customer_id, pii: row.pii }] : [])),
        db,
      );
      return new Map(
        rows.map(({ pii: _, ...row }) => {
          const personal = opened.get(row.customer_id);
          return [
            row.customer_id,
            { ...row, email: personal ? normalizeEmail(personal.email) : null, name: personal?.name ?? null },
          ];
        }),
      );
    };

    const first = await build('cv_first');
    expect(first.get(kept)).toMatchObject({
      email: 'kept@example.com',
      name: 'Name Kept@Example.com',
      status: 'registered',
      plan_id: 'pro-monthly',
    });
    expect(first.get(kept)?.email_digest).toBe(await emailDigest(db, 'KEPT@example.com '));
    expect(first.get(erased)).toMatchObject({ email: 'erased@example.com', status: 'registered' });
    expect(first.get(legacy)).toMatchObject({
      email: 'old@example.com',
      name: 'Old Timer',
      status: 'registered',
      plan_id: 'starter-monthly',
    });

    // Erasure: the key goes and CustomerDeleted follows; applied on top of the first view, then rebuilt.
    await db.transaction((tx) => shred(erased, tx));
    await store.append(`customer-${erased}`, [
      {
        type: 'CustomerDeleted',
        data: { customerId: erased, reason: 'erasure', deletedAt: '2026-01-02T00:00:00.000Z' },
      },
    ]);
    const last = (await store.readAll(LOG_START, { limit: 10_000 })).at(-1)!;
    await db.transaction(async (tx) =>
      projection.apply([last], { tx, schema: 'cv_first', prefetched: await projection.prefetch!([last]) }),
    );
    expect((await read('cv_first')).get(erased)).toMatchObject({
      email: null,
      name: null,
      email_digest: null,
      status: 'deleted',
      deletion_reason: 'erasure',
    });

    const rebuilt = await build('cv_rebuilt');
    expect(rebuilt.get(erased)).toMatchObject({
      email: null,
      name: null,
      status: 'deleted',
      deletion_reason: 'erasure',
    });
    expect(rebuilt.get(kept)).toMatchObject({ email: 'kept@example.com', status: 'registered' });
    await db.close();
  });
});

interface Registered {
  customerId: string;
  subscriptionId: string;
  customerToken: string;
  position: number;
}

function customerApiSuite(mode: Mode) {
  describe(`the Customer API on ${mode}`, async () => {
    const fixture = await openPlatform(mode);
    const skip = fixture === null;
    afterAll(async () => fixture?.close());

    const get = (url: string, headers: Record<string, string> = admin) =>
      fixture!.platform.http.inject({ method: 'GET', url, headers });
    const register = async (email: string, planId = 'pro-monthly'): Promise<Registered> => {
      const response = await fixture!.platform.http.inject({
        method: 'POST',
        url: '/register',
        payload: { email, name: `Name of ${email}`, planId, paymentMethod: 'pm_card_visa' },
      });
      expect(response.statusCode, response.body).toBe(201);
      return response.json() as Registered;
    };
    const tag = uuidv7().slice(-12);

    it.skipIf(skip)(
      'reads a registration at its position (read-your-writes), with the email in lower case',
      async () => {
        const email = `Read-${tag}@Example.com`;
        const me = await register(email);
        const response = await get(`/customers/${me.customerId}?minPosition=${me.position}`);
        expect(response.statusCode, response.body).toBe(200);
        expect(response.json()).toEqual({
          customerId: me.customerId,
          email: email.toLowerCase(),
          name: `Name of ${email}`,
          status: 'registered',
          planId: 'pro-monthly',
          createdAt: expect.any(String),
          registeredAt: expect.any(String),
          deletedAt: null,
          deletionReason: null,
        });
        const byHeader = await get(`/customers/${me.customerId}`, { ...admin, 'x-min-position': String(me.position) });
        expect(byHeader.statusCode).toBe(200);
      },
    );

    it.skipIf(skip)('lists by email (any case) and status, a page at a time in a stable order', async () => {
      const group = `list-${tag}`;
      const registered: Registered[] = [];
      for (let i = 0; i < 5; i++)
        registered.push(await register(`${group}-${i}@example.com`, i % 2 ? 'pro-monthly' : 'starter-monthly'));
      const minPosition = Math.max(...registered.map((r) => r.position));

      const byEmail = await get(`/customers?email=${group.toUpperCase()}-3@EXAMPLE.COM&minPosition=${minPosition}`);
      expect(byEmail.statusCode, byEmail.body).toBe(200);
      expect(byEmail.json().customers.map((c: { customerId: string }) => c.customerId)).toEqual([
        registered[3]!.customerId,
      ]);

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const response = await get(
          `/customers?status=registered&limit=2${cursor ? `&cursor=${cursor}` : ''}&minPosition=${minPosition}`,
        );
        expect(response.statusCode, response.body).toBe(200);
        const page = response.json() as {
          customers: { customerId: string; status: string; createdAt: string }[];
          nextCursor: string | null;
        };
        expect(page.customers.length).toBeLessThanOrEqual(2);
        expect(page.customers.every((c) => c.status === 'registered')).toBe(true);
        seen.push(...page.customers.map((c) => c.customerId));
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor && pages < 1000);
      // Every customer exactly once, and ours in registration order.
      expect(new Set(seen).size).toBe(seen.length);
      const ours = seen.filter((id) => registered.some((r) => r.customerId === id));
      expect(ours).toEqual(registered.map((r) => r.customerId));
      expect(
        (await get(`/customers?status=pending&minPosition=${minPosition}`))
          .json()
          .customers.some((c: { customerId: string }) => ours.includes(c.customerId)),
      ).toBe(false);
    });

    it.skipIf(skip)('erasure: GET is 404, and the deleted record lists without personal data', async () => {
      const email = `erase-${tag}@example.com`;
      const me = await register(email);
      const erased = await fixture!.platform.http.inject({
        method: 'POST',
        url: `/customers/${me.customerId}/erase`,
        headers: admin,
      });
      expect(erased.statusCode, erased.body).toBe(200);
      const position = erased.json().deletedPosition as number;
      expect((await get(`/customers/${me.customerId}?minPosition=${position}`)).statusCode).toBe(404);
      const deleted = (await get(`/customers?status=deleted&minPosition=${position}&limit=100`)).json().customers as {
        customerId: string;
      }[];
      expect(deleted.find((c) => c.customerId === me.customerId)).toMatchObject({
        email: null,
        name: null,
        status: 'deleted',
        deletionReason: 'erasure',
      });
      expect((await get(`/customers?email=${email}&minPosition=${position}`)).json().customers).toEqual([]);
      expect(
        (await get(`/customers?minPosition=${position}&limit=100`))
          .json()
          .customers.some((c: { customerId: string }) => c.customerId === me.customerId),
      ).toBe(false);
    });

    it.skipIf(skip)('a customer token reads only its own record', async () => {
      const me = await register(`me-${tag}@example.com`);
      const other = await register(`other-${tag}@example.com`);
      const mine = { authorization: `Bearer ${me.customerToken}` };
      const minPosition = Math.max(me.position, other.position);
      expect((await get(`/customers/${me.customerId}?minPosition=${minPosition}`, mine)).statusCode).toBe(200);
      for (const id of [other.customerId, uuidv7()]) {
        const response = await get(`/customers/${id}?minPosition=${minPosition}`, mine);
        expect(response.statusCode).toBe(404);
        expect(response.headers['content-type']).toContain('application/problem+json');
      }
      const list = (await get(`/customers?minPosition=${minPosition}`, mine)).json();
      expect(list).toEqual({ customers: [expect.objectContaining({ customerId: me.customerId })], nextCursor: null });
      expect(
        (await get(`/customers?email=other-${tag}@example.com&minPosition=${minPosition}`, mine)).json().customers,
      ).toEqual([]);
      expect((await get(`/customers/${me.customerId}`, {})).statusCode).toBe(401);
      expect((await get('/customers', {})).statusCode).toBe(401);
    });

    it.skipIf(skip).each([
      ['/customers?limit=0', 'limit'],
      ['/customers?limit=101', 'limit'],
      ['/customers?limit=abc', 'limit'],
      ['/customers?status=gone', 'status'],
      ['/customers?email=not-an-email', 'email'],
      ['/customers?cursor=bm90LWEtY3Vyc29y', 'cursor'],
      ['/customers?cursor=!!', 'cursor'],
      ['/customers?minPosition=-1', 'minPosition'],
      ['/customers?unknown=1', 'unknown'],
      ['/customers/not-a-uuid', 'id'],
    ])('answers 400 problem+json to %s', async (url) => {
      const response = await get(url);
      expect(response.statusCode, response.body).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
    });

    it.skipIf(skip)(
      'answers 400 to a malformed X-Min-Position and 503 when the view cannot reach the position in time',
      async () => {
        expect((await get('/customers', { ...admin, 'x-min-position': 'soon' })).statusCode).toBe(400);
        const behind = await get(`/customers?minPosition=${Number.MAX_SAFE_INTEGER}`);
        expect(behind.statusCode).toBe(503);
        expect(behind.json()).toMatchObject({
          status: 503,
          minPosition: Number.MAX_SAFE_INTEGER,
          currentPosition: expect.any(Number),
        });
      },
    );
  });
}

customerApiSuite('embedded');
customerApiSuite('distributed');
