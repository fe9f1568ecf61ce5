import type { Sql } from '../../kernel/db/database.ts';
import { addDays } from './buckets.ts';
import { annualRecurring, dayOf } from './monthly-recurring.ts';

export const SUMMARY_WINDOW_DAYS = 30;

export interface MoneyAmount {
  currency: string;
  amount: number;
}

export interface AnalyticsSummary {
  asOf: string;
  /** The last 30 days: from midnight UTC 29 days before today to now. */
  window: { from: string; to: string; firstDay: string; lastDay: string };
  activeSubscriptions: { total: number; byPlan: { planId: string; planName: string | null; count: number }[] };
  mrr: MoneyAmount[];
  arr: MoneyAmount[];
  signups: number;
  cancellations: number;
  churn: { rate: number | null; activeAtWindowStart: number; churned: number };
  revenue: MoneyAmount[];
}

/** The window the summary counts over: the 30 UTC days ending today, today up to `now`. */
export function summaryWindow(now: Date): AnalyticsSummary['window'] {
  const lastDay = dayOf(now);
  const firstDay = addDays(lastDay, -(SUMMARY_WINDOW_DAYS - 1));
  return { from: `${firstDay}T00:00:00.000Z`, to: now.toISOString(), firstDay, lastDay };
}

const money = (rows: { currency: string; amount: unknown }[]): MoneyAmount[] => rows.map((row) => ({ currency: row.currency, amount: Number(row.amount) }));

/** Everything in the summary comes from the projection: exact at the store position it has reached. */
export async function analyticsSummary(db: Sql, schema: string, now: Date, planName: (planId: string) => string | null): Promise<AnalyticsSummary> {
  const window = summaryWindow(now);
  const byPlan = await db.query<{ plan_id: string; count: number }>(
    `select plan_id, count(*)::int as count from ${schema}.subscriptions where ended_at is null group by plan_id order by plan_id`,
  );
  const mrr = await db.query<{ currency: string; amount: unknown }>(
    `select currency, sum(mrr)::bigint as amount from ${schema}.subscriptions where ended_at is null group by currency order by currency`,
  );
  const signups = await db.query<{ count: number }>(`select coalesce(sum(signups), 0)::int as count from ${schema}.daily_signups where day between $1 and $2`, [window.firstDay, window.lastDay]);
  const cancellations = await db.query<{ count: number }>(
    `select count(*)::int as count from ${schema}.subscriptions where cancel_requested_at >= $1 and cancel_requested_at <= $2`,
    [window.from, window.to],
  );
  const churn = await db.query<{ active: number; churned: number }>(
    `select count(*)::int as active, (count(*) filter (where ended_at <= $2))::int as churned
     from ${schema}.subscriptions where started_at <= $1 and (ended_at is null or ended_at > $1)`,
    [window.from, window.to],
  );
  const revenue = await db.query<{ currency: string; amount: unknown }>(
    `select currency, sum(amount)::bigint as amount from ${schema}.daily_revenue where day between $1 and $2 group by currency order by currency`,
    [window.firstDay, window.lastDay],
  );
  const { active, churned } = churn.rows[0]!;
  const mrrs = money(mrr.rows);
  return {
    asOf: now.toISOString(),
    window,
    activeSubscriptions: {
      total: byPlan.rows.reduce((sum, row) => sum + row.count, 0),
      byPlan: byPlan.rows.map((row) => ({ planId: row.plan_id, planName: planName(row.plan_id), count: row.count })),
    },
    mrr: mrrs,
    arr: mrrs.map(({ currency, amount }) => ({ currency, amount: annualRecurring(amount) })),
    signups: signups.rows[0]!.count,
    cancellations: cancellations.rows[0]!.count,
    churn: { rate: active === 0 ? null : churned / active, activeAtWindowStart: active, churned },
    revenue: money(revenue.rows),
  };
}
