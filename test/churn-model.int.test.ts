import { v5 as uuidv5 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChurnFeatures } from '../src/domain/churn/churn-features.ts';
import { seedEvents } from '../src/domain/events/index.ts';
import { toCloudEvent } from '../src/kernel/bus/cloudevent.ts';
import type { BusMessage } from '../src/kernel/bus/message.ts';
import { EventCatalog } from '../src/kernel/catalog/catalog.ts';
import { TestClock } from '../src/kernel/clock.ts';
import { loadConfig } from '../src/kernel/config.ts';
import { ConsumerRunner } from '../src/kernel/consumers/consumer-runner.ts';
import { DeadLetterStore } from '../src/kernel/consumers/dead-letter-store.ts';
import { consumerMigrations } from '../src/kernel/consumers/migrations.ts';
import type { Database } from '../src/kernel/db/database.ts';
import { migrate } from '../src/kernel/db/migrate.ts';
import { openPglite } from '../src/kernel/db/pglite.ts';
import { silentLogger } from '../src/kernel/logger.ts';
import type { NewEvent } from '../src/kernel/store/envelope.ts';
import { EventStore, type EventRow } from '../src/kernel/store/event-store.ts';
import { eventStoreMigrations } from '../src/kernel/store/migrations.ts';
import { churnModelOf, mlModule } from '../src/reactions/ml/index.ts';
import { exampleOf } from '../src/reactions/ml/churn-examples.ts';
import { listModelVersions } from '../src/reactions/ml/churn-model-store.ts';
import { CurrentChurnModel } from '../src/reactions/ml/current-churn-model.ts';
import { isHeldOut } from '../src/reactions/ml/holdout.ts';
import type { ReactionDeps } from '../src/reactions/reaction-module.ts';
import { subscriptionStream } from '../src/services/streams.ts';
import { ADMIN_TOKEN, openPlatform, type PlatformFixture } from './support/platform-fixture.ts';
import { openTestPostgres, postgresAvailable } from './support/postgres.ts';
import { waitFor } from './support/wait-for.ts';

const DAY = 86_400_000;
const NAMESPACE = 'b0f4c6a2-9c1e-4d7b-8e35-2a6f1d9c4e70';
const START = Date.parse('2026-01-01T00:00:00Z');

/** A seeded generator (mulberry32): the same subscriptions at every run. */
const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const PLANTED = 'starter-monthly';
const PLANS = [
  { planId: PLANTED, amount: 900, currency: 'EUR', interval: 'month' as const, days: 30 },
  { planId: 'pro-monthly', amount: 2900, currency: 'EUR', interval: 'month' as const, days: 30 },
  { planId: 'pro-monthly-usd', amount: 3200, currency: 'USD', interval: 'month' as const, days: 30 },
  { planId: 'pro-yearly', amount: 29000, currency: 'EUR', interval: 'year' as const, days: 365 },
];

const iso = (ms: number) => new Date(ms).toISOString();
const uuid = (name: string) => uuidv5(name, NAMESPACE);

/**
 * One subscription's life over `months`, as the write side records it: created, then at each
 * period end a renewal, or failed charges (SubscriptionPastDue, three dunning attempts) ending in a
 * payment_failed cancellation; customers also cancel during a period. The planted signal: the
 * starter plan's customers cancel three times as often. A 3× risk on one plan alone cannot make an
 * AUC of 0.75 (it tops out near 0.64 whatever the rates), so the rest is what real churn looks
 * like: the hazard falls with tenure (10% in the first period, 10%/k in the k-th), and 30% of
 * customers have a flaky card (60% of charges declined) that brings failed payments and
 * involuntary churn.
 */
function simulateSubscription(
  n: number,
  random: () => number,
  months: number,
): { subscriptionId: string; events: NewEvent[] } {
  const plan = PLANS[Math.floor(random() * PLANS.length)]!;
  const subscriptionId = uuid(`subscription-${n}`);
  const customerId = uuid(`customer-${n}`);
  const createdAt = START + Math.floor(random() * 90) * DAY + Math.floor(random() * DAY);
  const horizon = START + months * 30 * DAY;
  const flakyCard = random() < 0.3;
  const events: NewEvent[] = [];
  let periodStart = createdAt;
  let periodEnd = createdAt + plan.days * DAY;
  events.push({
    type: 'SubscriptionCreated',
    data: {
      subscriptionId,
      customerId,
      planId: plan.planId,
      price: { amount: plan.amount, currency: plan.currency },
      interval: plan.interval,
      currentPeriod: { start: iso(periodStart), end: iso(periodEnd) },
      createdAt: iso(createdAt),
    },
  });
  for (let periodIndex = 1; periodEnd < horizon; periodIndex++) {
    const monthlyHazard = 0.1 / periodIndex;
    const hazard = 1 - (1 - monthlyHazard * (plan.planId === PLANTED ? 3 : 1)) ** (plan.days / 30);
    if (random() < hazard) {
      const requestedAt = periodStart + Math.floor(random() * (periodEnd - periodStart));
      const atPeriodEnd = random() < 0.7;
      events.push({
        type: 'SubscriptionCancelled',
        data: {
          subscriptionId,
          customerId,
          reason: 'customer_request',
          atPeriodEnd,
          requestedAt: iso(requestedAt),
          effectiveAt: iso(atPeriodEnd ? periodEnd : requestedAt),
        },
      });
      break;
    }
    let paid = false;
    let failedAt = periodEnd;
    for (let attempt = 1; attempt <= 3 && !paid; attempt++) {
      const paymentId = uuid(`payment-${n}-${periodIndex}-${attempt}`);
      if (random() >= (flakyCard ? 0.6 : 0.02)) {
        paid = true;
        const start = periodEnd;
        periodStart = start;
        periodEnd = start + plan.days * DAY;
        events.push({
          type: 'SubscriptionRenewed',
          data: {
            subscriptionId,
            customerId,
            planId: plan.planId,
            periodIndex,
            period: { start: iso(start), end: iso(periodEnd) },
            paymentId,
            amount: plan.amount,
            currency: plan.currency,
            renewedAt: iso(failedAt),
          },
        });
      } else {
        const nextRetryAt = attempt < 3 ? failedAt + 3 * DAY : null;
        events.push({
          type: 'SubscriptionPastDue',
          data: {
            subscriptionId,
            customerId,
            periodIndex,
            paymentId,
            attempt,
            declineCode: 'insufficient_funds',
            failedAt: iso(failedAt),
            nextRetryAt: nextRetryAt === null ? null : iso(nextRetryAt),
          },
        });
        if (nextRetryAt !== null) failedAt = nextRetryAt;
      }
    }
    if (!paid) {
      events.push({
        type: 'SubscriptionCancelled',
        data: {
          subscriptionId,
          customerId,
          reason: 'payment_failed',
          atPeriodEnd: false,
          requestedAt: iso(failedAt),
          effectiveAt: iso(failedAt),
        },
      });
      break;
    }
  }
  return { subscriptionId, events };
}

/** Appends `count` simulated subscriptions, 50 streams to a transaction. */
async function simulate(store: EventStore, random: () => number, first: number, count: number): Promise<void> {
  for (let n = first; n < first + count; n += 50) {
    const batch = Array.from({ length: Math.min(50, first + count - n) }, (_, i) =>
      simulateSubscription(n + i, random, 12),
    );
    await store.appendMany(
      batch.map(({ subscriptionId, events }) => ({ streamId: subscriptionStream(subscriptionId), events })),
    );
  }
}

interface Harness {
  db: Database;
  store: EventStore;
  clock: TestClock;
  deps: ReactionDeps;
  runner: ConsumerRunner;
  /** The position of the last event fed. */
  fed: number;
}

const EXAMPLE_TYPES = ['SubscriptionRenewed', 'SubscriptionCancelled'];

/** 500 subscriptions take a few seconds; the margin is for a loaded CI machine, not a speed goal. */
const SLOW_MACHINE_MS = 180_000;

/**
 * Events of some types after a position, as stored. Not `readAll`: it holds back events newer than
 * the oldest transaction in flight anywhere in the database, and other suites share the test server.
 * Only this test writes to its schema, so the position order is the commit order.
 */
async function storedEvents(db: Database, types: string[], after: number, limit: number): Promise<EventRow[]> {
  const { rows } = await db.query<EventRow>(
    `select position, tx_id, event_id, stream_id, version, type, schema_version, data, metadata, partition_key, occurred_at
     from events where type = any($1::text[]) and position > $2 order by position limit $3`,
    [types, after, limit],
  );
  return rows;
}

/** Delivers the new renewals and cancellations to the consumer, as the bus does (batches, one transaction each). */
async function feed(harness: Harness): Promise<BusMessage[]> {
  const delivered: BusMessage[] = [];
  for (;;) {
    const rows = await storedEvents(harness.db, EXAMPLE_TYPES, harness.fed, 500);
    if (rows.length === 0) return delivered;
    const messages = rows.map((row) => toCloudEvent(row, harness.deps.catalog.get(row.type).topic));
    const outcomes = await harness.runner.processBatch(messages);
    expect(outcomes.every((outcome) => outcome === 'processed')).toBe(true);
    delivered.push(...messages);
    const last = rows[rows.length - 1]!;
    harness.fed = Number(last.position);
  }
}

const exampleCount = async (db: Database) =>
  Number((await db.query<{ n: string }>('select count(*)::text as n from churn_examples')).rows[0]!.n);

const features = (planId: string, overrides: Partial<ChurnFeatures> = {}): ChurnFeatures => ({
  planId,
  priceAmount: 2900,
  currency: 'EUR',
  interval: 'month',
  tenurePeriods: 4,
  renewals: 3,
  failedPayments: 0,
  daysSinceSignup: 95,
  ...overrides,
});

const backends = { PGlite: () => openPglite(), PostgreSQL: () => openTestPostgres() };
const postgres = await postgresAvailable();

describe.each(['PGlite', 'PostgreSQL'] as const)('churn model on simulated subscriptions (%s)', (backend) => {
  const RETRAIN_EVERY = 1000;
  const RETRAIN_INTERVAL_MS = 7 * DAY;
  let harness: Harness;

  const skip = backend === 'PostgreSQL' && !postgres;

  beforeAll(async () => {
    if (skip) return;
    const db = await backends[backend]();
    await migrate(db, [...eventStoreMigrations, ...consumerMigrations, ...mlModule.migrations]);
    const clock = new TestClock(new Date('2027-01-01T00:00:00Z'), { frozen: true });
    const catalog = new EventCatalog(seedEvents);
    const store = new EventStore(db, catalog, clock);
    const config = loadConfig({
      CHURN_RETRAIN_EVERY: String(RETRAIN_EVERY),
      CHURN_RETRAIN_INTERVAL_MS: String(RETRAIN_INTERVAL_MS),
    });
    const deps: ReactionDeps = {
      config,
      plans: { get: () => undefined },
      db,
      store,
      catalog,
      clock,
      log: silentLogger,
    };
    const [consumer] = mlModule.consumers(deps);
    const runner = new ConsumerRunner(consumer!, {
      db,
      catalog,
      clock,
      log: silentLogger,
      deadLetters: new DeadLetterStore(db, clock),
      retry: config.retry,
    });
    harness = { db, store, clock, deps, runner, fed: 0 };
  });
  afterAll(async () => {
    if (skip) return;
    await churnModelOf(harness.deps).trainer.stop();
    await harness.db.close();
  });

  it.skipIf(skip)(
    'records the features known at each event, skips a failed registration, and refuses to train on too few examples',
    async () => {
      const { store } = harness;
      const subscriptionId = uuid('hand-made');
      const customerId = uuid('hand-made-customer');
      const created = Date.parse('2026-02-01T10:00:00Z');
      const period = (k: number) => ({ start: iso(created + k * 30 * DAY), end: iso(created + (k + 1) * 30 * DAY) });
      await store.append(subscriptionStream(subscriptionId), [
        {
          type: 'SubscriptionCreated',
          data: {
            subscriptionId,
            customerId,
            planId: 'pro-monthly',
            price: { amount: 2900, currency: 'EUR' },
            interval: 'month',
            currentPeriod: period(0),
            createdAt: iso(created),
          },
        },
        {
          type: 'SubscriptionRenewed',
          data: {
            subscriptionId,
            customerId,
            planId: 'pro-monthly',
            periodIndex: 1,
            period: period(1),
            paymentId: uuid('p1'),
            amount: 2900,
            currency: 'EUR',
            renewedAt: period(1).start,
          },
        },
        {
          type: 'SubscriptionPastDue',
          data: {
            subscriptionId,
            customerId,
            periodIndex: 2,
            paymentId: uuid('p2'),
            attempt: 1,
            declineCode: 'expired_card',
            failedAt: period(2).start,
            nextRetryAt: iso(Date.parse(period(2).start) + 3 * DAY),
          },
        },
        {
          type: 'SubscriptionRenewed',
          data: {
            subscriptionId,
            customerId,
            planId: 'pro-monthly',
            periodIndex: 2,
            period: period(2),
            paymentId: uuid('p3'),
            amount: 2900,
            currency: 'EUR',
            renewedAt: iso(Date.parse(period(2).start) + 3 * DAY),
          },
        },
        {
          type: 'SubscriptionCancelled',
          data: {
            subscriptionId,
            customerId,
            reason: 'too expensive',
            atPeriodEnd: true,
            requestedAt: iso(created + 75 * DAY + 5 * 3_600_000),
            effectiveAt: period(2).end,
          },
        },
      ]);
      // The registration saga cancels the subscription of a sign-up it undoes: not a customer leaving.
      const failed = uuid('failed-registration');
      const failedCustomer = uuid('failed-registration-customer');
      await store.append(subscriptionStream(failed), [
        {
          type: 'SubscriptionCreated',
          data: {
            subscriptionId: failed,
            customerId: failedCustomer,
            planId: 'pro-monthly',
            price: { amount: 2900, currency: 'EUR' },
            interval: 'month',
            currentPeriod: period(0),
            createdAt: iso(created),
          },
        },
        {
          type: 'SubscriptionCancelled',
          data: {
            subscriptionId: failed,
            customerId: failedCustomer,
            reason: 'registration_failed',
            atPeriodEnd: false,
            requestedAt: iso(created),
            effectiveAt: iso(created),
          },
        },
      ]);
      await feed(harness);

      const { rows } = await harness.db.query<{ churned: boolean; features: ChurnFeatures; subscription_id: string }>(
        'select churned, features, subscription_id::text as subscription_id from churn_examples order by seq',
      );
      expect(rows.map((row) => row.subscription_id)).toEqual([subscriptionId, subscriptionId, subscriptionId]);
      expect(rows.map((row) => [row.churned, row.features])).toEqual([
        [false, features('pro-monthly', { tenurePeriods: 1, renewals: 0, failedPayments: 0, daysSinceSignup: 30 })],
        [false, features('pro-monthly', { tenurePeriods: 2, renewals: 1, failedPayments: 1, daysSinceSignup: 63 })],
        [true, features('pro-monthly', { tenurePeriods: 3, renewals: 2, failedPayments: 1, daysSinceSignup: 75 })],
      ]);

      // A bus that carries no stream version: the history ends at the event's id instead.
      const [cancellation] = await storedEvents(harness.db, ['SubscriptionCancelled'], 0, 1);
      const unversioned = { ...harness.store.decode(cancellation!), version: 0 };
      const example = await harness.db.transaction((tx) => exampleOf(harness.store, tx, unversioned));
      expect(example?.features).toEqual(rows[2]!.features);

      const model = churnModelOf(harness.deps);
      expect(await model.trainer.train('now')).toMatchObject({
        status: 'no_model',
        reason: expect.stringMatching(/^too few examples/),
      });
      expect(model.scorer.score(features('pro-monthly'))).toBeNull();
      expect(await listModelVersions(harness.db, 10)).toEqual([]);
    },
  );

  it.skipIf(skip)('is idempotent: the same event delivered twice, or handled twice, makes one example', async () => {
    const [row] = await storedEvents(harness.db, ['SubscriptionRenewed'], 0, 1);
    const message = toCloudEvent(row!, 'subscription.renewed');
    const before = await exampleCount(harness.db);
    expect(await harness.runner.process(message)).toBe('duplicate');
    // Even without the inbox (a replayed dead letter), the example is keyed by its event.
    const event = harness.store.decode(row!);
    const [consumer] = mlModule.consumers(harness.deps);
    await harness.db.transaction((tx) =>
      consumer!.handle(event, {
        tx,
        log: silentLogger,
        metadata: { correlationId: event.id, causationId: event.id, actor: 'test' },
      }),
    );
    expect(await exampleCount(harness.db)).toBe(before);
    const { rows } = await harness.db.query<{ n: string }>(
      'select count(*)::text as n from churn_examples where event_id = $1',
      [event.id],
    );
    expect(rows[0]!.n).toBe('1');
  });

  it.skipIf(skip)(
    'learns the planted plan from events: AUC ≥ 0.75 on held-out subscriptions, the planted plan scored riskier',
    async () => {
      await simulate(harness.store, seeded(20261125), 0, 500);
      await feed(harness);
      const total = await exampleCount(harness.db);
      expect(total).toBeGreaterThan(2 * RETRAIN_EVERY);

      // Retrained by itself every RETRAIN_EVERY new examples while they were recorded.
      const model = churnModelOf(harness.deps);
      const automatic = await waitFor(
        'the trainings the examples made due',
        async () => {
          const versions = await listModelVersions(harness.db, 100);
          return (
            versions.length > 0 &&
            total - (versions[0]!.trainingSize + versions[0]!.testSize) < RETRAIN_EVERY &&
            versions
          );
        },
        60_000,
      );
      const sizes = automatic.map((version) => version.trainingSize + version.testSize).reverse();
      for (let i = 1; i < sizes.length; i++) expect(sizes[i]! - sizes[i - 1]!).toBeGreaterThanOrEqual(RETRAIN_EVERY);

      const outcome = await model.trainer.train('now');
      if (outcome.status !== 'trained') throw new Error(`no model: ${JSON.stringify(outcome)}`);
      const trained = outcome.model;
      const { rows } = await harness.db.query<{ subscription_id: string; churned: boolean }>(
        'select subscription_id::text as subscription_id, churned from churn_examples',
      );
      const heldOut = rows.filter((row) => isHeldOut(row.subscription_id));
      expect(trained).toMatchObject({
        version: automatic[0]!.version + 1,
        trainedAt: harness.clock.now(),
        trainingSize: total - heldOut.length,
        testSize: heldOut.length,
        testChurned: heldOut.filter((row) => row.churned).length,
      });
      expect(trained.auc).toBeGreaterThanOrEqual(0.75);
      expect(trained.logLoss).toBeGreaterThan(0);
      expect(trained.logLoss).toBeLessThan(Math.log(2));

      // The scorer serves the new version at once; the planted plan is riskier with everything else equal.
      for (const other of ['pro-monthly', 'pro-monthly-usd']) {
        const same = { priceAmount: 2900, currency: 'EUR' } as const;
        expect(model.scorer.score(features(PLANTED, same))!).toBeGreaterThan(
          model.scorer.score(features(other, same))!,
        );
      }
      const risk = model.scorer.score(features(PLANTED))!;
      expect(risk).toBeGreaterThan(0);
      expect(risk).toBeLessThan(1);

      // Another process finds the same version in the database.
      const elsewhere = new CurrentChurnModel(silentLogger);
      expect(elsewhere.score(features(PLANTED))).toBeNull();
      await elsewhere.refresh(harness.db);
      expect(elsewhere.version).toBe(trained.version);
      expect(elsewhere.score(features(PLANTED))).toBeCloseTo(risk, 12);
    },
    SLOW_MACHINE_MS,
  );

  it.skipIf(skip)('retrains on the clock when there are new examples, and not without them', async () => {
    const model = churnModelOf(harness.deps);
    expect(await model.trainer.train('due')).toMatchObject({ status: 'not_due', reason: 'no new examples' });

    await simulate(harness.store, seeded(7), 5000, 20);
    await feed(harness);
    await model.trainer.stop(); // the checks the new examples asked for have run (the clock has not moved: none trained)
    expect(await model.trainer.train('due')).toMatchObject({
      status: 'not_due',
      reason: expect.stringMatching(/new examples of 1000, and the interval has not passed/),
    });

    harness.clock.advanceBy(RETRAIN_INTERVAL_MS);
    const outcome = await model.trainer.train('due');
    expect(outcome).toMatchObject({
      status: 'trained',
      model: { trainedAt: harness.clock.now(), trainingSize: expect.any(Number) },
    });
    expect(await model.trainer.train('due')).toMatchObject({ status: 'not_due', reason: 'no new examples' });
  });
});

describe('GET /analytics/churn-model and POST /analytics/churn-model/train (embedded platform)', async () => {
  const fixture = (await openPlatform('embedded', {
    CHURN_RETRAIN_EVERY: '1000000',
    CLOCK: 'test',
  })) as PlatformFixture;
  const { platform } = fixture;
  const deps: ReactionDeps = {
    config: platform.config,
    plans: platform.plans,
    db: platform.db,
    store: platform.store,
    catalog: platform.catalog,
    clock: platform.clock,
    log: silentLogger,
  };
  // The real consumer on the platform's bus (the fixture starts none of its own).
  const subscription = await platform.bus.subscribe(
    new ConsumerRunner(mlModule.consumers(deps)[0]!, {
      db: platform.db,
      catalog: platform.catalog,
      clock: platform.clock,
      log: silentLogger,
      deadLetters: platform.deadLetters,
      retry: platform.config.retry,
    }),
  );
  afterAll(async () => {
    await subscription.stop();
    await fixture.close();
  });
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const inject = (method: 'GET' | 'POST', url: string, headers: Record<string, string> = admin) =>
    platform.http.inject({ method, url, headers });

  it('needs the admin token, and is documented under analytics', async () => {
    expect((await inject('GET', '/analytics/churn-model', {})).statusCode).toBe(401);
    expect((await inject('POST', '/analytics/churn-model/train', {})).statusCode).toBe(401);
    expect((await inject('GET', '/analytics/churn-model?limit=0')).statusCode).toBe(400);
    const document = (await inject('GET', '/openapi.json')).json();
    expect(document.paths['/analytics/churn-model'].get.tags).toEqual(['analytics']);
    expect(document.paths['/analytics/churn-model/train'].post.security).toEqual([{ bearer: [] }]);
  });

  it(
    'shows no model before there are examples, then the versions trained with their metrics, newest first',
    async () => {
      expect((await inject('GET', '/analytics/churn-model')).json()).toEqual({
        current: null,
        examples: { total: 0, churned: 0 },
        versions: [],
      });
      expect((await inject('POST', '/analytics/churn-model/train')).json()).toMatchObject({
        status: 'no_model',
        reason: expect.stringMatching(/^too few examples/),
      });

      await simulate(platform.store, seeded(99), 0, 150);
      const expected = Number(
        (
          await platform.db.query<{ n: string }>(
            `select count(*)::text as n from events where type = any($1::text[])`,
            [EXAMPLE_TYPES],
          )
        ).rows[0]!.n,
      );
      await waitFor(
        'every example recorded',
        async () => (await inject('GET', '/analytics/churn-model')).json().examples.total === expected,
        60_000,
      );

      const first = (await inject('POST', '/analytics/churn-model/train')).json();
      const second = (await inject('POST', '/analytics/churn-model/train')).json();
      expect(first).toMatchObject({
        status: 'trained',
        model: { version: 1, current: true, trainedAt: platform.clock.now().toISOString() },
      });
      expect(second).toMatchObject({
        status: 'trained',
        model: { version: 2, auc: first.model.auc, logLoss: first.model.logLoss },
      });

      const listing = (await inject('GET', '/analytics/churn-model')).json();
      expect(listing.current).toBe(2);
      expect(listing.examples.total).toBe(expected);
      expect(listing.versions.map((v: { version: number; current: boolean }) => [v.version, v.current])).toEqual([
        [2, true],
        [1, false],
      ]);
      const [newest] = listing.versions;
      expect(newest.trainingSize + newest.testSize).toBe(expected);
      expect(newest.auc).toBeGreaterThanOrEqual(0);
      expect(newest.auc).toBeLessThanOrEqual(1);
      expect(newest.logLoss).toBeGreaterThan(0);
      expect(newest.parameters).toMatchObject({
        algorithm: 'logistic-regression',
        encoding: { plans: expect.arrayContaining([PLANTED, 'pro-monthly']) },
      });
      expect(newest.parameters.coefficients.map((c: { feature: string }) => c.feature)).toContain(`plan=${PLANTED}`);
      expect(churnModelOf(deps).scorer.score(features(PLANTED))).toBeGreaterThan(0);
    },
    SLOW_MACHINE_MS,
  );
});
