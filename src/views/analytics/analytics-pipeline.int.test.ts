import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../kernel/db/database.ts';
import { migrate } from '../../kernel/db/migrate.ts';
import { openPglite } from '../../kernel/db/pglite.ts';
import { silentLogger } from '../../kernel/logger.ts';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';
import { analyticsPipeline } from './analytics-pipeline.ts';
import { analyticsCohorts, cohortsOf, type CohortCount } from './cohorts.ts';
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
    await db.exec('delete from analytics_facts; delete from analytics_mrr_daily; delete from analytics_cohort_days');
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
    await db.exec('delete from analytics_facts; delete from analytics_mrr_daily; delete from analytics_cohort_days');
    await deliver([now, atPeriodEnd, registered, created]);
    const oneByOne = { facts: await facts(), daily: await daily(), retention: await retention() };

    await db.exec('delete from analytics_facts; delete from analytics_mrr_daily; delete from analytics_cohort_days');
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

/** Signups on days a month's anniversary clamps (the 29th to the 31st, a leap day), and on ordinary ones. */
const SIGNUPS = [
  '2024-02-29T12:00:00.000Z',
  '2024-10-31T23:59:59.999Z',
  '2024-11-30T00:00:00.000Z',
  '2024-12-15T08:30:00.000Z',
  '2024-12-31T10:00:00.000Z',
  '2025-01-28T10:00:00.000Z',
  '2025-01-29T06:00:00.000Z',
  '2025-01-30T10:00:00.000Z',
  '2025-01-31T00:00:00.000Z',
  '2025-01-31T10:00:00.000Z',
  '2025-02-01T10:00:00.000Z',
  '2025-02-28T10:00:00.000Z',
  '2025-03-15T10:00:00.000Z',
  '2025-03-31T22:00:00.000Z',
];
const DAY_MS = 86_400_000;

/** A signup, its subscription and, for most, a cancellation: at once some days later, or at a period end. */
function historyOf(registeredAt: string, i: number): RecordedEvent[] {
  const customerId = `c${i}`;
  const subscriptionId = `s${i}`;
  const events = [
    event('SubscriptionCreated', {
      subscriptionId,
      customerId,
      planId: 'pro-monthly',
      price: { amount: 2900, currency: 'EUR' },
      interval: 'month',
      currentPeriod: { start: registeredAt, end: registeredAt },
      createdAt: registeredAt,
    }),
    event('CustomerRegistered', { customerId, planId: 'pro-monthly', registeredAt }),
  ];
  if (i % 3 === 2) return events;
  const requestedAt = new Date(Date.parse(registeredAt) + (20 + 17 * i) * DAY_MS + i * 3_600_000).toISOString();
  const effectiveAt = i % 3 === 0 ? requestedAt : new Date(Date.parse(requestedAt) + 30 * DAY_MS).toISOString();
  return [
    ...events,
    event('SubscriptionCancelled', {
      subscriptionId,
      customerId,
      reason: 'too expensive',
      atPeriodEnd: i % 3 === 1,
      requestedAt,
      effectiveAt,
    }),
  ];
}

/** The cohorts computed from every signup fact at each request, as the route did before the counts. */
async function recomputed(db: Database, now: Date, range: { from?: string; to?: string }) {
  const { rows } = await db.query<CohortCount>(
    `select to_char(cohort_month, 'YYYY-MM') as month, retained_months, observed_months, count(*)::int as customers
     from (
       select cohort_month, retained_months,
              d - case when ((at at time zone 'UTC') + make_interval(months => d)) at time zone 'UTC' > $1 then 1 else 0 end as observed_months
       from (
         select cohort_month, retained_months, at,
                ((extract(year from $1::timestamptz at time zone 'UTC') - extract(year from at at time zone 'UTC')) * 12
                 + extract(month from $1::timestamptz at time zone 'UTC') - extract(month from at at time zone 'UTC'))::int as d
         from analytics_facts where kind = 'signup' and cohort_month between $2::date and $3::date and at <= $1
       ) signups
     ) ages
     group by 1, 2, 3 order by 1`,
    [now, range.from ? `${range.from}-01` : '0001-01-01', range.to ? `${range.to}-01` : '9999-12-01'],
  );
  return cohortsOf(rows);
}

describe('analytics cohorts', () => {
  let db: Database;
  const pipeline = analyticsPipeline();

  beforeAll(async () => {
    db = await openPglite();
    await migrate(db, analyticsMigrations);
    const events = SIGNUPS.flatMap(historyOf);
    // Batches of a few events, so the counts move between batches as well as within one.
    for (let at = 0; at < events.length; at += 5)
      await db.transaction((tx) =>
        pipeline.handleBatch!(events.slice(at, at + 5), {
          tx,
          log: silentLogger,
          metadataOf: (one) => ({ correlationId: 'c', causationId: one.id, actor: 'test' }),
        }),
      );
  });
  afterAll(async () => db.close());

  it('keeps the signups counted by day and retained_months in step with the facts', async () => {
    const counted = await db.query(
      `select day::text as day, retained_months, customers from analytics_cohort_days where customers <> 0 order by 1, 2`,
    );
    const facts = await db.query(
      `select day::text as day, retained_months, count(*)::int as customers from analytics_facts
       where kind = 'signup' group by 1, 2 order by 1, 2`,
    );
    expect(counted.rows).toEqual(facts.rows);
    expect(facts.rows.some((row) => (row as { retained_months: unknown }).retained_months !== null)).toBe(true);
  });

  it('answers from the counts what counting every signup answers, at any time of any day', async () => {
    const nows: Date[] = [];
    // Every day from the first signup to months after the last, at its first and last instants and midday.
    for (let day = Date.parse('2024-10-28T00:00:00.000Z'); day < Date.parse('2025-07-02T00:00:00.000Z'); day += DAY_MS)
      nows.push(new Date(day), new Date(day + DAY_MS - 1));
    // Just before, at and after a signup's time of day on the days its anniversaries fall.
    for (const signup of SIGNUPS)
      for (let months = 0; months < 8; months++) {
        const at = new Date(signup);
        const anniversary = Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + months, 1);
        const lastDay = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + months + 1, 0)).getUTCDate();
        const day = anniversary + (Math.min(at.getUTCDate(), lastDay) - 1) * DAY_MS;
        const time = Date.parse(signup) % DAY_MS;
        for (const offset of [-1, 0, 1]) nows.push(new Date(day + time + offset));
      }
    for (const now of nows) {
      expect(await analyticsCohorts(db, now, {}), now.toISOString()).toEqual(await recomputed(db, now, {}));
    }
    const now = new Date('2025-05-31T10:00:00.000Z');
    for (const range of [{ from: '2025-01' }, { to: '2024-12' }, { from: '2024-11', to: '2025-01' }])
      expect(await analyticsCohorts(db, now, range)).toEqual(await recomputed(db, now, range));
  });
});
