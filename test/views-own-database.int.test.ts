import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, openPlatform, type PlatformFixture } from './support/platform-fixture.ts';
import { postgresAvailable, TEST_DATABASE_URL, uniqueName } from './support/postgres.ts';

// The views' own database: the server's other database (`postgres`), in a schema of this test.
const viewsUrl = () => {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = '/postgres';
  return url;
};

async function onViewsDatabase<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: viewsUrl().toString() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe('views in a database of their own', async () => {
  const available = await postgresAvailable();
  const schema = uniqueName('views');
  let fixture: PlatformFixture | null = null;
  if (available) {
    await onViewsDatabase((client) => client.query(`create schema ${schema}`));
    const url = viewsUrl();
    url.searchParams.set('options', `-c search_path=${schema}`);
    fixture = await openPlatform('distributed', {
      CUSTOMER_VIEW_DATABASE_URL: url.toString(),
      SUBSCRIPTION_VIEW_DATABASE_URL: url.toString(),
      ANALYTICS_VIEW_DATABASE_URL: url.toString(),
    });
  }
  afterAll(async () => {
    await fixture?.close();
    if (!available) return;
    await onViewsDatabase(async (client) => {
      const { rows } = await client.query<{ name: string }>(
        'select schema_name as name from information_schema.schemata where schema_name = $1 or schema_name like $2',
        [schema, `${schema}\\_%`],
      );
      for (const { name } of rows) await client.query(`drop schema ${name} cascade`);
    });
  });

  it.skipIf(!fixture)(
    'serves the Customer and Subscription APIs from the views database, the platform database holds no view',
    async () => {
      const { http, db } = fixture!.platform;
      const registered = await http.inject({
        method: 'POST',
        url: '/register',
        headers: { 'content-type': 'application/json' },
        payload: {
          email: `own-${uuidv7()}@example.com`,
          name: 'Own Database',
          planId: 'pro-monthly',
          paymentMethod: 'pm_card_visa',
        },
      });
      expect(registered.statusCode).toBe(201);
      const { customerId, subscriptionId, position } = registered.json() as {
        customerId: string;
        subscriptionId: string;
        position: number;
      };
      const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

      const customer = await http.inject({
        method: 'GET',
        url: `/customers/${customerId}?minPosition=${position}`,
        headers: auth,
      });
      expect(customer.statusCode).toBe(200);
      expect(customer.json()).toMatchObject({ customerId });
      const subscription = await http.inject({
        method: 'GET',
        url: `/subscriptions/${subscriptionId}`,
        headers: { ...auth, 'x-min-position': String(position) },
      });
      expect(subscription.statusCode).toBe(200);
      expect(subscription.json()).toMatchObject({ subscriptionId, customerId });

      const viewSchemas = await onViewsDatabase(async (client) => {
        const { rows } = await client.query<{ name: string }>(
          'select schema_name as name from information_schema.schemata where schema_name like $1 order by 1',
          [`${schema}\\_%`],
        );
        return rows.map((row) => row.name);
      });
      expect(viewSchemas).toEqual([
        `${schema}_analytics_view`,
        `${schema}_customer_view`,
        `${schema}_subscription_view`,
      ]);
      const { rows } = await db.query<{ n: number }>(
        `select count(*)::int as n from information_schema.schemata where schema_name like current_schema() || '\\_%\\_view'`,
      );
      expect(rows[0]!.n).toBe(0);

      const projections = await http.inject({ method: 'GET', url: '/admin/projections', headers: auth });
      expect(projections.statusCode).toBe(200);
      const names = (projections.json() as { projections: { name: string; schema: string }[] }).projections.map(
        (p) => `${p.name}:${p.schema}`,
      );
      expect(names).toEqual([
        `customers:${schema}_customer_view`,
        `subscriptions:${schema}_subscription_view`,
        `analytics:${schema}_analytics_view`,
      ]);
    },
  );
});
