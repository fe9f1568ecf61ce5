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

const money = (rows: { currency: string; amount: unknown }[]): MoneyAmount[] =>
  rows.map((row) => ({ currency: row.currency, amount: Number(row.amount) }));

/** Everything in the summary comes from the projection: exact at the store position it has reached. */
export async function analyticsSummary(
  db: Sql,
  schema: string,
  now: Date,
  planName: (planId: string) => string | null,
): Promise<AnalyticsSummary> {
  const window = summaryWindow(now);
  // One statement, one round trip: each figure is a few index-range rows of the projection.
  // Active at the window start = active now + those that ended since - those that started since and
  // are still active: two index range scans over the window instead of one over every subscription.
  const { rows } = await db.query<{
    totals: { plan_id: string; currency: string; subscriptions: number; mrr: string }[];
    signups: number;
    cancellations: number;
    churned: number;
    joined: number;
    revenue: { currency: string; amount: string }[];
  }>(
    `select
       (select coalesce(json_agg(t order by plan_id, currency), '[]')
        from (select plan_id, currency, subscriptions, mrr::text as mrr from ${schema}.active_totals where subscriptions <> 0) t) as totals,
       (select coalesce(sum(signups), 0)::int from ${schema}.daily_signups where day between $3 and $4) as signups,
       (select count(*)::int from ${schema}.subscriptions where cancel_requested_at >= $1 and cancel_requested_at <= $2) as cancellations,
       (select count(*)::int from ${schema}.subscriptions where ended_at >= $1 and ended_at <= $2 and started_at < $1) as churned,
       (select count(*)::int from ${schema}.subscriptions where started_at >= $1 and ended_at is null) as joined,
       (select coalesce(json_agg(r order by currency), '[]')
        from (select currency, sum(amount)::text as amount from ${schema}.daily_revenue where day between $3 and $4 group by currency) r) as revenue`,
    [window.from, window.to, window.firstDay, window.lastDay],
  );
  const { totals, signups, cancellations, churned, joined, revenue } = rows[0]!;
  const byPlan = new Map<string, number>();
  const mrr = new Map<string, number>();
  for (const row of totals) {
    byPlan.set(row.plan_id, (byPlan.get(row.plan_id) ?? 0) + row.subscriptions);
    mrr.set(row.currency, (mrr.get(row.currency) ?? 0) + Number(row.mrr));
  }
  const total = [...byPlan.values()].reduce((sum, count) => sum + count, 0);
  const active = total + churned - joined;
  const mrrs = [...mrr].sort(([a], [b]) => a.localeCompare(b)).map(([currency, amount]) => ({ currency, amount }));
  return {
    asOf: now.toISOString(),
    window,
    activeSubscriptions: {
      total,
      byPlan: [...byPlan].map(([planId, count]) => ({ planId, planName: planName(planId), count })),
    },
    mrr: mrrs,
    arr: mrrs.map(({ currency, amount }) => ({ currency, amount: annualRecurring(amount) })),
    signups,
    cancellations,
    churn: { rate: active === 0 ? null : churned / active, activeAtWindowStart: active, churned },
    revenue: money(revenue),
  };
}
