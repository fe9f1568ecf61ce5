import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../kernel/db/database.ts';
import { openPglite } from '../../kernel/db/pglite.ts';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';
import { analyticsProjection } from './analytics-projection.ts';

/** A deterministic history: signups, subscriptions, cancellations now and at period end, ends, payments, refunds. */
function history(count: number): RecordedEvent[] {
  const events: RecordedEvent[] = [];
  let seed = 42;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const push = (type: string, data: Record<string, unknown>) =>
    events.push({
      id: `e${events.length}`,
      type,
      schemaVersion: 1,
      streamId: 's',
      version: 1,
      position: events.length + 1,
      txId: '1',
      occurredAt: new Date('2026-03-01T00:00:00Z'),
      partitionKey: 'k',
      data,
      metadata: { correlationId: 'c', causationId: null, actor: 't' },
    });
  const open: { id: string; end: number }[] = [];
  for (let i = 0; i < count; i++) {
    const t = Date.parse('2026-01-01T00:00:00.000Z') + i * 3_600_000;
    const at = (ms: number) => new Date(ms).toISOString();
    const dice = random();
    if (dice < 0.4 || open.length === 0) {
      const id = `s${i}`;
      const yearly = random() < 0.3;
      const currency = random() < 0.25 ? 'USD' : 'EUR';
      push('CustomerRegistered', { customerId: `c${i}`, planId: 'p', registeredAt: at(t) });
      push('PaymentProcessed', {
        paymentId: `p${i}`,
        customerId: `c${i}`,
        amount: yearly ? 29000 : 2900,
        currency,
        processedAt: at(t),
      });
      push('SubscriptionCreated', {
        subscriptionId: id,
        customerId: `c${i}`,
        planId: yearly ? 'pro-yearly' : 'pro-monthly',
        price: { amount: yearly ? 29000 : 2900, currency },
        interval: yearly ? 'year' : 'month',
        createdAt: at(t),
      });
      open.push({ id, end: t + 30 * 86_400_000 });
    } else if (dice < 0.6) {
      const { id } = open.splice(Math.floor(random() * open.length), 1)[0]!;
      push('SubscriptionCancelled', {
        subscriptionId: id,
        customerId: 'c',
        reason: 'r',
        atPeriodEnd: false,
        requestedAt: at(t),
        effectiveAt: at(t),
      });
    } else if (dice < 0.8) {
      const subscription = open[Math.floor(random() * open.length)]!;
      push('SubscriptionCancelled', {
        subscriptionId: subscription.id,
        customerId: 'c',
        reason: 'r',
        atPeriodEnd: true,
        requestedAt: at(t),
        effectiveAt: at(subscription.end),
      });
      if (random() < 0.5)
        push('SubscriptionEnded', {
          subscriptionId: subscription.id,
          customerId: 'c',
          reason: 'r',
          endedAt: at(subscription.end),
        });
    } else {
      push('PaymentRefunded', {
        paymentId: 'p',
        customerId: 'c',
        amount: 100,
        currency: 'EUR',
        reason: 'r',
        refundedAt: at(t),
      });
    }
  }
  return events;
}

describe('analytics projection', () => {
  let db: Database;
  const projection = analyticsProjection();
  const build = async (schema: string, events: RecordedEvent[], batchSize: number) => {
    await db.exec(`create schema ${schema}; ${projection.tables(schema)}`);
    for (let i = 0; i < events.length; i += batchSize)
      await db.transaction((tx) =>
        projection.apply(events.slice(i, i + batchSize), { tx, schema, prefetched: undefined }),
      );
  };
  const contents = async (schema: string) => ({
    subscriptions: (await db.query(`select * from ${schema}.subscriptions order by subscription_id`)).rows,
    signups: (await db.query(`select day::text, signups from ${schema}.daily_signups order by day`)).rows,
    revenue: (
      await db.query(`select day::text, currency, amount::int from ${schema}.daily_revenue order by day, currency`)
    ).rows,
    totals: (
      await db.query(
        `select plan_id, currency, subscriptions, mrr::int from ${schema}.active_totals where subscriptions <> 0 order by plan_id, currency`,
      )
    ).rows,
  });

  beforeAll(async () => {
    db = await openPglite();
  });
  afterAll(async () => db.close());

  it('ends in the same state however the log is cut into batches', async () => {
    const events = history(1500);
    await build('whole', events, events.length);
    await build('one_by_one', events, 1);
    await build('uneven', events, 97);
    const whole = await contents('whole');
    expect(whole.subscriptions.length).toBeGreaterThan(100);
    expect(whole.subscriptions.some((row) => row.ended_at === null && row.cancel_requested_at !== null)).toBe(true);
    expect(whole.revenue.some((row) => row.currency === 'USD')).toBe(true);
    // The totals kept in step agree with the subscriptions they sum up.
    const active = await db.query(
      `select plan_id, currency, count(*)::int as subscriptions, sum(mrr)::int as mrr from whole.subscriptions where ended_at is null group by 1, 2 order by 1, 2`,
    );
    expect(whole.totals).toEqual(active.rows);
    expect(await contents('one_by_one')).toEqual(whole);
    expect(await contents('uneven')).toEqual(whole);
  });
});
