import { afterAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { seedEvents } from '../src/domain/events/index.ts';
import { EventCatalog } from '../src/kernel/catalog/catalog.ts';
import { TestClock } from '../src/kernel/clock.ts';
import type { Database } from '../src/kernel/db/database.ts';
import { migrate } from '../src/kernel/db/migrate.ts';
import { paymentReconciler } from '../src/services/payments/intents/index.ts';
import { openPostgres } from '../src/kernel/db/postgres.ts';
import { silentLogger } from '../src/kernel/logger.ts';
import { EventStore } from '../src/kernel/store/event-store.ts';
import { migrations } from '../src/platform.ts';
import { SimulatedGateway } from '../src/services/payments/gateway/index.ts';
import { SagaOrchestrator } from '../src/kernel/saga/saga-orchestrator.ts';
import { RenewalScheduler } from '../src/services/subscriptions/renewal-scheduler.ts';
import { RENEWAL_DUE, seedDueRenewals } from './support/due-renewals.ts';
import { openTestPostgres, postgresAvailable, TEST_DATABASE_URL } from './support/postgres.ts';

const SUBSCRIPTIONS = 300;

describe('renewals shared by two schedulers on one PostgreSQL', async () => {
  const available = await postgresAvailable();
  const db = available ? await openTestPostgres() : undefined;
  const second: Database | undefined = db
    ? await openPostgres({ url: TEST_DATABASE_URL, schema: db.schema, poolSize: 10 })
    : undefined;
  afterAll(async () => {
    await second?.close();
    await db?.close();
  });

  it.skipIf(!available)('charges every renewal exactly once, each scheduler taking its own share', async () => {
    await migrate(db!, migrations);
    const catalog = new EventCatalog(seedEvents);
    const seedClock = new TestClock(new Date(RENEWAL_DUE));
    const ids = await seedDueRenewals(db!, new EventStore(db!, catalog, seedClock), SUBSCRIPTIONS);

    // Two "processes": their own pool, clock, gateway client and scheduler, sharing the database.
    const schedulers = [db!, second!].map((pool) => {
      const clock = new TestClock(new Date(Date.parse(RENEWAL_DUE) + 3_600_000));
      const gateway = new SimulatedGateway({ clock, store: pool });
      const store = new EventStore(pool, catalog, clock);
      const base = { db: pool, store, clock, gateway, log: silentLogger, dunningDays: [1, 3, 5] };
      const sagas = new SagaOrchestrator({ db: pool, store, clock, log: silentLogger, owner: uuidv7() });
      const payments = paymentReconciler({ ...base, windowMs: 60_000, sagas });
      const scheduler = new RenewalScheduler({ ...base, sagas, payments, taxRateBps: 0, batchSize: 10 });
      return { clock, gateway, scheduler };
    });
    const ran = await Promise.all(schedulers.map(({ clock, scheduler }) => scheduler.runDue(clock.now())));

    expect(ran[0]! + ran[1]!).toBe(SUBSCRIPTIONS);
    expect(ran.every((count) => count > 0)).toBe(true);
    // Not one charge request twice: the idempotency key would hide a second charge, not a second attempt.
    const requests = schedulers.map(({ gateway }) => gateway.counters().chargeRequests);
    expect(requests[0]! + requests[1]!).toBe(SUBSCRIPTIONS);
    const { rows } = await db!.query<{ subscription_id: string; n: string }>(
      `select data->>'subscriptionId' as subscription_id, count(*)::text as n from events
       where type = 'PaymentProcessed' and data->>'purpose' = 'renewal' group by 1`,
    );
    expect(rows).toHaveLength(SUBSCRIPTIONS);
    expect(rows.every((row) => row.n === '1')).toBe(true);
    expect(new Set(rows.map((row) => row.subscription_id))).toEqual(new Set(ids));
    const charges = await db!.query<{ n: string }>(
      `select count(*)::text as n from gateway_charges where status = 'succeeded'`,
    );
    expect(charges.rows[0]!.n).toBe(String(SUBSCRIPTIONS));
    const timers = await db!.query<{ n: string }>(
      `select count(*)::text as n from subscription_timers where claimed_by is not null or due_at <= $1`,
      [RENEWAL_DUE],
    );
    expect(timers.rows[0]!.n).toBe('0'); // every claim given back, every timer moved to the next period
  });
});
