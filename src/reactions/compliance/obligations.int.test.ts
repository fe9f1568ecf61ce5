import { afterAll, describe, expect, it } from 'vitest';
import type { SubscriptionCancelledData } from '../../domain/events/subscription-cancelled.ts';
import type { Database } from '../../kernel/db/database.ts';
import { migrate } from '../../kernel/db/migrate.ts';
import { openPglite } from '../../kernel/db/pglite.ts';
import { complianceMigrations } from './migrations.ts';
import { recordObligations, type Cancellation } from './obligations.ts';

const policy = { graceHours: 24, retentionDays: 30 };

const cancellation = (n: number, customerId: string, effectiveAt: string): Cancellation => ({
  eventId: `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`,
  data: {
    subscriptionId: `sub-${n}`,
    customerId,
    effectiveAt,
    atPeriodEnd: n % 2 === 0,
  } as SubscriptionCancelledData,
});

// Two customers with several cancellations each, out of date order, one repeated and one retention already passed.
const history = [
  cancellation(1, 'ann', '2026-03-01T00:00:00.000Z'),
  cancellation(2, 'bob', '2026-03-05T00:00:00.000Z'),
  cancellation(3, 'ann', '2026-04-01T00:00:00.000Z'),
  cancellation(4, 'ann', '2026-02-01T00:00:00.000Z'),
  cancellation(5, 'ann', '2026-04-01T00:00:00.000Z'),
  cancellation(6, 'bob', '2026-03-02T00:00:00.000Z'),
  cancellation(7, 'cid', '2026-05-01T00:00:00.000Z'),
  cancellation(2, 'bob', '2026-03-05T00:00:00.000Z'),
];

async function rowsAfter(db: Database, record: (db: Database) => Promise<void>) {
  await db.query('delete from compliance_obligations');
  // A retention obligation already checked: no cancellation reopens it.
  await db.query(
    `insert into compliance_obligations (id, kind, customer_id, subscription_id, cancellation_event_id, effective_at, at_period_end, due_at, status)
     values ('retention:cid', 'data_retention', 'cid', 'sub-0', 'e0', '2026-01-01', false, '2026-01-31', 'passed')`,
  );
  await record(db);
  const { rows } = await db.query(
    `select id, kind, customer_id, subscription_id, cancellation_event_id, effective_at, at_period_end, due_at, status
     from compliance_obligations order by id`,
  );
  return rows;
}

describe('compliance obligations', async () => {
  const db = await openPglite();
  await migrate(db, complianceMigrations);
  afterAll(() => db.close());

  it('records a batch of cancellations as one at a time would, in any split', async () => {
    const oneByOne = await rowsAfter(db, async (sql) => {
      for (const one of history) await recordObligations(sql, [one], policy);
    });
    expect(oneByOne.find((row) => row.id === 'retention:ann')).toMatchObject({
      cancellation_event_id: history[2]!.eventId,
    });
    expect(oneByOne.find((row) => row.id === 'retention:cid')).toMatchObject({
      status: 'passed',
      subscription_id: 'sub-0',
    });
    expect(oneByOne).toHaveLength(1 + 2 * 7 + 2);
    const whole = await rowsAfter(db, (sql) => recordObligations(sql, history, policy));
    expect(whole).toEqual(oneByOne);
    const split = await rowsAfter(db, async (sql) => {
      await recordObligations(sql, history.slice(0, 3), policy);
      await recordObligations(sql, history.slice(3), policy);
    });
    expect(split).toEqual(oneByOne);
  });
});
