import { afterAll, describe, expect, inject, it } from 'vitest';
import { startPlatformProcess, type PlatformProcess } from './support/platform-process.ts';
import { freshDatabaseUrl, postgresAvailable, uniqueName } from './support/postgres.ts';
import { waitFor } from './support/wait-for.ts';

const ADMIN_TOKEN = 'roles-admin-token-0123456789';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

interface TrialBalance {
  currencies: { currency: string; accounts: { code: string; balance: number }[]; balanced: boolean }[];
}

/**
 * The platform split into its roles, each in processes of its own on one PostgreSQL and one Kafka
 * (two consumer processes sharing the partitions, two projection processes taking turns): the
 * outcomes of sign-ups are those of one process running everything.
 */
describe('the platform as separate role processes on PostgreSQL + Kafka', async () => {
  const brokers = inject('kafkaBrokers');
  const skip = !(await postgresAvailable()) || brokers === null;
  if (brokers === null && process.env.REQUIRE_KAFKA === '1') throw new Error('REQUIRE_KAFKA=1 but no Kafka broker');
  const started: PlatformProcess[] = [];
  let drop = async () => {};
  afterAll(async () => {
    await Promise.all(started.map((process) => process.stop()));
    await drop();
  });

  it.skipIf(skip)(
    'registrations, emails, invoices, ledger and views come out as with one process',
    async () => {
      const database = await freshDatabaseUrl();
      drop = database.drop;
      const common = {
        DATABASE_URL: database.url,
        KAFKA_BROKERS: brokers!,
        KAFKA_TOPIC_PREFIX: `${uniqueName('roles')}.`,
        CLOCK: 'system',
        ADMIN_TOKEN,
        TOKEN_SECRET: 'roles-token-secret-0123456789abcdefghij',
        REGISTER_RATE_LIMIT: '100000',
        LOG_LEVEL: 'warn',
      };
      const start = async (roles: string, env: Record<string, string> = {}) => {
        const process = await startPlatformProcess(
          { ...common, TRIBUTARY_ROLES: roles, ...env },
          { waitForHealth: false },
        );
        started.push(process);
        return process;
      };
      // The api process migrates the schema first; the others find it done.
      const api = await start('api');
      const ready = (process: PlatformProcess) => async () =>
        (await fetch(`${process.url}/ready`).catch(() => undefined))?.ok ?? false;
      await waitFor('the api process to be ready', ready(api), 240_000);
      const others = await Promise.all([
        start('relay'),
        start('consumers', { TRIBUTARY_CONSUMERS: 'welcome-email,payment-receipt,invoice-generator,gl-posting' }),
        start('consumers'),
        start('projections'),
        start('projections,scheduler'),
      ]);
      for (const process of others)
        await waitFor(`${process.url} to be ready (output: ${process.output()})`, ready(process), 240_000);
      // A process without the api role serves the operations endpoints only.
      expect((await fetch(`${others[0]!.url}/plans`)).status).toBe(404);
      expect((await fetch(`${others[0]!.url}/metrics`, { headers: admin })).status).toBe(200);

      const call = async (method: string, path: string, body?: object, headers: Record<string, string> = admin) => {
        const response = await fetch(`${api.url}${path}`, {
          method,
          headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
          body: body && JSON.stringify(body),
        });
        return { status: response.status, body: await response.json() };
      };
      const signUps = [];
      for (let i = 0; i < 3; i++) {
        const email = `${uniqueName('role')}@example.com`;
        const response = await call(
          'POST',
          '/register',
          { email, name: `Rolf ${i}`, planId: 'pro-monthly', paymentMethod: 'pm_card_visa' },
          {},
        );
        expect(response.status, JSON.stringify(response.body)).toBe(201);
        signUps.push({ email, ...(response.body as { customerId: string; subscriptionId: string; position: number }) });
      }

      for (const signUp of signUps) {
        // Views, kept by the projection processes: read-your-writes through the api process.
        const customer = await call('GET', `/customers/${signUp.customerId}?minPosition=${signUp.position}`);
        expect(customer.status, JSON.stringify(customer.body)).toBe(200);
        expect(customer.body).toMatchObject({
          customerId: signUp.customerId,
          email: signUp.email,
          status: 'registered',
        });
        const subscription = await call(
          'GET',
          `/subscriptions/${signUp.subscriptionId}?minPosition=${signUp.position}`,
        );
        expect(subscription.body).toMatchObject({
          subscriptionId: signUp.subscriptionId,
          status: 'active',
          planId: 'pro-monthly',
        });
        // Reactions, run by the consumer processes: one welcome email, one receipt, one invoice each.
        const emails = await waitFor(
          'the welcome email and the receipt',
          async () => {
            const { body } = await call('GET', `/emails?to=${encodeURIComponent(signUp.email)}`);
            const list = (body as { emails: { type: string }[] }).emails;
            return list.length >= 2 ? list : undefined;
          },
          60_000,
        );
        expect(emails.map((email) => email.type).sort()).toEqual(['payment-receipt', 'welcome-email']);
        const invoices = await waitFor(
          'the invoice',
          async () => {
            const list = (await call('GET', `/invoices?customerId=${signUp.customerId}`)).body.invoices as {
              status: string;
            }[];
            return list.length > 0 ? list : undefined;
          },
          60_000,
        );
        expect(invoices).toHaveLength(1);
      }
      // The ledger: three charges posted once each, balanced.
      const balance = await waitFor(
        'three charges in the ledger',
        async () => {
          const tb = (await call('GET', '/ledger/trial-balance')).body as TrialBalance;
          const cash = tb.currencies
            .flatMap((currency) => currency.accounts)
            .filter((account) => account.balance !== 0);
          return cash.length > 0 && tb.currencies.every((currency) => currency.balanced) ? tb : undefined;
        },
        60_000,
      );
      const { body: entries } = await call('GET', '/ledger/entries?limit=1000');
      const charges = new Set(
        (entries as { entries: { paymentId: string }[] }).entries.map((entry) => entry.paymentId),
      );
      expect(charges.size).toBe(3);
      expect(balance.currencies.every((currency) => currency.balanced)).toBe(true);
      // Nothing was applied twice: no duplicate emails a little later either.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      for (const signUp of signUps) {
        const { body } = await call('GET', `/emails?to=${encodeURIComponent(signUp.email)}`);
        expect((body as { emails: unknown[] }).emails).toHaveLength(2);
      }
    },
    600_000,
  ); // six processes starting through tsx on a shared machine
});
