import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../kernel/db/database.ts';
import { migrate } from '../../kernel/db/migrate.ts';
import { openPglite } from '../../kernel/db/pglite.ts';
import { silentLogger } from '../../kernel/logger.ts';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';
import { analyticsPipeline } from './analytics-pipeline.ts';
import { analyticsMigrations } from './migrations.ts';

let position = 0;
const event = (type: string, data: Record<string, unknown>): RecordedEvent => ({
  id: `00000000-0000-7000-8000-${String(++position).padStart(12, '0')}`,
  type,
  schemaVersion: 1,
  streamId: 's',
  version: 1,
  position,
  txId: String(position),
  occurredAt: new Date('2026-03-01T00:00:00Z'),
  partitionKey: String(data.customerId),
  data,
  metadata: { correlationId: 'c', causationId: null, actor: 'test' },
});

const customerId = 'c1';
const subscriptionId = 's1';
const registered = event('CustomerRegistered', {
  customerId,
  planId: 'pro-yearly',
  registeredAt: '2026-01-31T23:00:00.000Z',
});
const created = event('SubscriptionCreated', {
  subscriptionId,
  customerId,
  planId: 'pro-yearly',
  price: { amount: 29000, currency: 'EUR' },
  interval: 'year',
  currentPeriod: { start: '2026-01-31T22:59:59.000Z', end: '2027-01-31T22:59:59.000Z' },
  createdAt: '2026-01-31T22:59:59.000Z',
});
const atPeriodEnd = event('SubscriptionCancelled', {
  subscriptionId,
  customerId,
  reason: 'too expensive',
  atPeriodEnd: true,
  requestedAt: '2026-03-01T10:00:00.000Z',
  effectiveAt: '2027-01-31T22:59:59.000Z',
});
const now = event('SubscriptionCancelled', {
  subscriptionId,
  customerId,
  reason: 'customer_request',
  atPeriodEnd: false,
  requestedAt: '2026-03-05T10:00:00.000Z',
  effectiveAt: '2026-03-05T10:00:00.000Z',
});

describe('analytics pipeline facts', () => {
  let db: Database;
  const pipeline = analyticsPipeline();
  const deliver = (events: RecordedEvent[]) =>
    db.transaction(async (tx) => {
      for (const one of events)
        await pipeline.handle(one, {
          tx,
          log: silentLogger,
          metadata: { correlationId: 'c', causationId: one.id, actor: 'test' },
        });
    });
  const facts = async () =>
    (
      await db.query(
        `select kind, subject, event_id, customer_id, plan_id, currency, mrr_delta::int as mrr, at, day::text as day, requested_at, reason, cohort_month::text as cohort from analytics_facts order by kind, subject`,
      )
    ).rows;

  beforeAll(async () => {
    db = await openPglite();
    await migrate(db, analyticsMigrations);
  });
  afterAll(async () => db.close());

  it('fills in what a fact lacks when the fact it comes from arrives later, whatever the order of the topics', async () => {
    // Topics have no common order: the cancellations, then the signup, then the creation.
    await deliver([now, atPeriodEnd, registered, created]);
    expect(await facts()).toEqual([
      expect.objectContaining({
        kind: 'churned',
        subject: subscriptionId,
        plan_id: 'pro-yearly',
        currency: 'EUR',
        mrr: -2417,
        day: '2026-03-05',
        requested_at: new Date('2026-03-01T10:00:00.000Z'),
        reason: 'too expensive',
        cohort: '2026-01-01',
        event_id: now.id,
      }),
      expect.objectContaining({
        kind: 'new',
        subject: subscriptionId,
        mrr: 2417,
        day: '2026-01-31',
        cohort: '2026-01-01',
      }),
      expect.objectContaining({
        kind: 'signup',
        subject: customerId,
        plan_id: 'pro-yearly',
        day: '2026-01-31',
        cohort: '2026-01-01',
      }),
    ]);
  });

  it('writes the same facts when events come again, in any order', async () => {
    const before = await facts();
    await deliver([created, atPeriodEnd, registered, now, now, registered]);
    expect(await facts()).toEqual(before);
  });

  it('keeps the daily MRR totals and the retention in step with the facts', async () => {
    const daily = await db.query(
      `select day::text as day, currency, amount::int from analytics_mrr_daily where amount <> 0 order by day`,
    );
    expect(daily.rows).toEqual([
      { day: '2026-01-31', currency: 'EUR', amount: 2417 },
      { day: '2026-03-05', currency: 'EUR', amount: -2417 },
    ]);
    // Signed up 2026-01-31 23:00, churned 2026-03-05: anniversaries 01-31 and 02-28 came before.
    expect((await db.query(`select retained_months from analytics_facts where kind = 'signup'`)).rows).toEqual([
      { retained_months: 2 },
    ]);
  });

  it('dates a churn at the earliest end, counting the first request as the cancellation', async () => {
    await db.exec('delete from analytics_facts; delete from analytics_mrr_daily');
    await deliver([created, registered, atPeriodEnd]);
    expect((await facts())[0]).toMatchObject({
      kind: 'churned',
      day: '2027-01-31',
      reason: 'too expensive',
      mrr: -2417,
    });
    await deliver([now]);
    expect((await facts())[0]).toMatchObject({
      kind: 'churned',
      day: '2026-03-05',
      requested_at: new Date('2026-03-01T10:00:00.000Z'),
      reason: 'too expensive',
    });
    // The churn moved from 2027-01-31 to 2026-03-05, and its MRR with it.
    const daily = await db.query(
      `select day::text as day, amount::int from analytics_mrr_daily where amount <> 0 order by day`,
    );
    expect(daily.rows).toEqual([
      { day: '2026-01-31', amount: 2417 },
      { day: '2026-03-05', amount: -2417 },
    ]);
  });

  it('writes in one batch, whatever its order, what it writes one event at a time', async () => {
    const daily = async () =>
      (
        await db.query(
          `select day::text as day, currency, amount::int from analytics_mrr_daily where amount <> 0 order by day, currency`,
        )
      ).rows;
    const retention = async () =>
      (await db.query(`select subject, retained_months from analytics_facts where kind = 'signup'`)).rows;
    await db.exec('delete from analytics_facts; delete from analytics_mrr_daily');
    await deliver([now, atPeriodEnd, registered, created]);
    const oneByOne = { facts: await facts(), daily: await daily(), retention: await retention() };

    await db.exec('delete from analytics_facts; delete from analytics_mrr_daily');
    await db.transaction((tx) =>
      pipeline.handleBatch!([now, created, atPeriodEnd, registered], {
        tx,
        log: silentLogger,
        metadataOf: (one) => ({ correlationId: 'c', causationId: one.id, actor: 'test' }),
      }),
    );
    expect({ facts: await facts(), daily: await daily(), retention: await retention() }).toEqual(oneByOne);
    expect(oneByOne.retention).toEqual([{ subject: customerId, retained_months: 2 }]);
  });
});
