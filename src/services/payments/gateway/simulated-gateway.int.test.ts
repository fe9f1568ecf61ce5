import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestPostgres, postgresAvailable } from '../../../../test/support/postgres.ts';
import type { Database } from '../../../kernel/db/database.ts';
import { migrate } from '../../../kernel/db/migrate.ts';
import { openPglite } from '../../../kernel/db/pglite.ts';
import { gatewayMigrations } from './charge-store.ts';
import { paymentGatewayContract } from './gateway.contract.ts';
import { GatewayTimeoutError, type ChargeRequest } from './gateway.ts';
import { SimulatedGateway } from './simulated-gateway.ts';

const durable = (openDb: () => Promise<Database>) => async () => {
  const db = await openDb();
  await migrate(db, gatewayMigrations);
  const simulator = new SimulatedGateway({ store: db });
  return { gateway: simulator, simulator, close: () => db.close() };
};

paymentGatewayContract(
  'SimulatedGateway on PGlite',
  durable(() => openPglite()),
);
paymentGatewayContract(
  'SimulatedGateway on PostgreSQL',
  durable(() => openTestPostgres()),
  postgresAvailable,
);

const request: ChargeRequest = {
  idempotencyKey: 'registration-1:charge',
  amount: 29000,
  currency: 'EUR',
  paymentMethod: 'pm_card_visa',
  customerId: 'customer-1',
  description: 'Tributary Pro (yearly)',
};

const hasPostgres = await postgresAvailable();

describe('SimulatedGateway on a durable store', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-gateway-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('a restarted process still knows the charge whose answer it never got, and never charges it twice', async () => {
    const first = await openPglite(dir);
    await migrate(first, gatewayMigrations);
    const before = new SimulatedGateway({ store: first });
    before.failNext(1, 'timeout-after-charge');
    await expect(before.charge(request)).rejects.toBeInstanceOf(GatewayTimeoutError);
    await first.close(); // the process dies

    const second = await openPglite(dir);
    try {
      await migrate(second, gatewayMigrations);
      const after = new SimulatedGateway({ store: second });
      const found = await after.retrieve(request.idempotencyKey);
      expect(found).toMatchObject({ status: 'succeeded', amount: 29000, brand: 'visa', last4: '4242' });
      expect(await after.charge(request)).toMatchObject({ chargeId: found!.chargeId });
      expect(after.chargesFor(request.idempotencyKey)).toBe(0);
      expect(await after.listCharges({ customerId: 'customer-1' })).toHaveLength(1);
      const { rows } = await second.query<{ payment_method: string; last4: string }>(
        'select payment_method, last4 from gateway_charges',
      );
      expect(rows).toEqual([{ payment_method: 'pm_card_visa', last4: '4242' }]);
    } finally {
      await second.close();
    }
  });

  it('refuses to store anything but a token, even if asked directly', async () => {
    const db = await openPglite();
    try {
      await migrate(db, gatewayMigrations);
      await expect(
        db.query(
          `insert into gateway_charges (idempotency_key, charge_id, status, amount, currency, customer_id, description, payment_method, brand, last4, created_at)
           values ('k', 'ch_1', 'succeeded', 100, 'EUR', 'c', '', '4242424242424242', 'visa', '4242', now())`,
        ),
      ).rejects.toThrow(/check constraint/);
    } finally {
      await db.close();
    }
  });

  it.skipIf(!hasPostgres)('two processes on one PostgreSQL, one key: one charge', async () => {
    const db = await openTestPostgres();
    try {
      await migrate(db, gatewayMigrations);
      const a = new SimulatedGateway({ store: db });
      const b = new SimulatedGateway({ store: db });
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).charge({ ...request })));
      expect(new Set(results.map((result) => JSON.stringify(result))).size).toBe(1);
      expect(a.chargesFor(request.idempotencyKey) + b.chargesFor(request.idempotencyKey)).toBe(1);
      expect(await a.listCharges()).toHaveLength(1);
    } finally {
      await db.close();
    }
  });
});
