import { setTimeout as sleep } from 'node:timers/promises';
import type { PlatformClient, SubscriptionView } from './platform-client.ts';
import { runConcurrently } from './run-concurrently.ts';
import type { SimulationResult } from './simulation.ts';

/** A figure and where it comes from: the platform's own answer, or what the simulator saw. */
export interface Figure {
  value: number | null;
  source: string;
}

export interface MoneyFigure {
  currency: string;
  /** Minor units per month. */
  amount: number;
}

export interface PlanFigures {
  planId: string;
  subscriptions: number;
  renewals: number;
  voluntaryCancellations: number;
  paymentFailedCancellations: number;
}

export interface SimulationSummary {
  result: SimulationResult;
  registrations: Figure;
  declines: Figure;
  failedRegistrations: Figure;
  renewals: Figure;
  cancellations: { now: Figure; atPeriodEnd: Figure; paymentFailed: Figure };
  /** Subscriptions by status at the end, as the platform reports them (empty when it did not). */
  statuses: Record<string, number>;
  mrr: { figures: MoneyFigure[]; source: string }[];
  /** By plan, from the platform's subscriptions: where the planted churn signal shows. */
  plans: PlanFigures[];
}

const READ_SIDE_WAIT_MS = 30_000;
const SUBSCRIPTION_SOURCE = 'platform: GET /subscriptions/{id}';
const LIST_SOURCE = 'platform: GET /subscriptions?customerId=';
const OBSERVED_SOURCE = 'simulator: its own requests';

/**
 * Reads back what the platform made of the simulation: each subscription it created (renewals,
 * status, cancellation), and the MRR of GET /analytics/summary when the platform has it. Where the
 * platform does not answer, the simulator's own observations stand in, and the source says so.
 */
export async function summarize(
  client: PlatformClient,
  result: SimulationResult,
  concurrency: number,
): Promise<SimulationSummary> {
  await waitForReadSide(client);
  // Read-your-writes on a read side: at least the simulator's last write (the clock's renewals are waited for above).
  const atPosition: Record<string, string> =
    result.lastPosition === null ? {} : { 'x-min-position': String(result.lastPosition) };
  const views = new Map<string, SubscriptionView>();
  let listUsed = false;
  await runConcurrently(result.subscriptions, concurrency, async ({ subscriptionId, customerId }) => {
    const one = await client.request('GET', `/subscriptions/${subscriptionId}`, undefined, atPosition);
    if (one.status === 200) return void views.set(subscriptionId, one.body as SubscriptionView);
    const list = await client.request(
      'GET',
      `/subscriptions?customerId=${encodeURIComponent(customerId)}`,
      undefined,
      atPosition,
    );
    const found =
      list.status === 200 ? itemsOf(list.body).find((item) => item.subscriptionId === subscriptionId) : undefined;
    if (found) {
      listUsed = true;
      views.set(subscriptionId, found);
    }
  });
  const complete = views.size === result.subscriptions.length;
  const readSource = listUsed ? `${SUBSCRIPTION_SOURCE} and ${LIST_SOURCE}` : SUBSCRIPTION_SOURCE;
  const { observed } = result;
  const fromPlatform = (count: (view: SubscriptionView) => number, fallback: number | null): Figure =>
    complete
      ? { value: [...views.values()].reduce((sum, view) => sum + count(view), 0), source: readSource }
      : {
          value: fallback,
          source: `${OBSERVED_SOURCE} (the platform answered for ${views.size} of ${result.subscriptions.length} subscriptions)`,
        };
  const cancelled = (view: SubscriptionView) =>
    view.cancellation !== null && view.cancellation.reason !== 'payment_failed';

  const statuses: Record<string, number> = {};
  for (const view of views.values()) statuses[view.status] = (statuses[view.status] ?? 0) + 1;

  const mrr: SimulationSummary['mrr'] = [];
  const analytics = await client.request('GET', '/analytics/summary', undefined, atPosition);
  const reported = analytics.status === 200 ? mrrOf(analytics.body) : null;
  if (reported)
    mrr.push({
      figures: reported,
      source: "platform: GET /analytics/summary (every customer on the platform, not only this run's)",
    });
  const running = (status: string | undefined) => status === undefined || status === 'active' || status === 'past_due';
  const live = result.subscriptions.filter(({ subscriptionId }) => running(views.get(subscriptionId)?.status));
  const mrrSource = complete
    ? `${readSource} (this run's active and past-due subscriptions)`
    : `${OBSERVED_SOURCE} (this run's subscriptions, counting as running those the platform did not report)`;
  mrr.push({
    figures: monthlyRevenue(
      live.map(({ plan }) => ({ price: { amount: plan.amount, currency: plan.currency }, interval: plan.interval })),
    ),
    source: mrrSource,
  });

  return {
    result,
    registrations: { value: observed.registrations, source: 'simulator: 201 answers of POST /register' },
    declines: { value: observed.declines, source: 'simulator: 402 answers of POST /register' },
    failedRegistrations: {
      value: observed.failedRegistrations,
      source: `simulator: other answers of POST /register${observed.firstRegistrationFailure ? ` (first: ${observed.firstRegistrationFailure})` : ''}`,
    },
    renewals: fromPlatform(renewalsOf, null),
    cancellations: {
      now: fromPlatform(
        (view) => (cancelled(view) && !view.cancellation!.atPeriodEnd ? 1 : 0),
        observed.cancelRequests.now,
      ),
      atPeriodEnd: fromPlatform(
        (view) => (cancelled(view) && view.cancellation!.atPeriodEnd ? 1 : 0),
        observed.cancelRequests.atPeriodEnd,
      ),
      paymentFailed: fromPlatform((view) => (view.cancellation?.reason === 'payment_failed' ? 1 : 0), null),
    },
    statuses,
    mrr,
    plans: byPlan(result, views),
  };
}

const renewalsOf = (view: SubscriptionView) => view.renewals ?? view.periodIndex ?? 0;

function byPlan(result: SimulationResult, views: Map<string, SubscriptionView>): PlanFigures[] {
  const figures = new Map<string, PlanFigures>(
    result.plans.map((plan) => [
      plan.id,
      { planId: plan.id, subscriptions: 0, renewals: 0, voluntaryCancellations: 0, paymentFailedCancellations: 0 },
    ]),
  );
  for (const { subscriptionId, plan } of result.subscriptions) {
    const row = figures.get(plan.id)!;
    row.subscriptions++;
    const view = views.get(subscriptionId);
    if (!view) continue;
    row.renewals += renewalsOf(view);
    if (view.cancellation?.reason === 'payment_failed') row.paymentFailedCancellations++;
    else if (view.cancellation) row.voluntaryCancellations++;
  }
  return [...figures.values()];
}

/** Monthly recurring revenue per currency: a yearly price counts a twelfth a month. */
export function monthlyRevenue(
  subscriptions: readonly { price: { amount: number; currency: string }; interval: 'month' | 'year' }[],
): MoneyFigure[] {
  const totals = new Map<string, number>();
  for (const { price, interval } of subscriptions)
    totals.set(
      price.currency,
      (totals.get(price.currency) ?? 0) + (interval === 'year' ? price.amount / 12 : price.amount),
    );
  return [...totals.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, amount]) => ({ currency, amount: Math.round(amount) }));
}

/** MRR per currency out of an analytics summary: `mrr` as a list of {currency, amount} or a map currency → amount. */
function mrrOf(body: unknown): MoneyFigure[] | null {
  const mrr = (body as { mrr?: unknown } | null)?.mrr;
  const amountOf = (value: unknown): number | null =>
    typeof value === 'number'
      ? value
      : typeof (value as { amount?: unknown })?.amount === 'number'
        ? (value as { amount: number }).amount
        : null;
  let figures: MoneyFigure[] = [];
  if (Array.isArray(mrr))
    figures = mrr.flatMap((item) =>
      typeof item?.currency === 'string' && amountOf(item) !== null
        ? [{ currency: item.currency, amount: amountOf(item)! }]
        : [],
    );
  else if (mrr && typeof mrr === 'object')
    figures = Object.entries(mrr).flatMap(([currency, value]) =>
      amountOf(value) === null ? [] : [{ currency, amount: amountOf(value)! }],
    );
  return figures.length ? figures.sort((a, b) => a.currency.localeCompare(b.currency)) : null;
}

function itemsOf(body: unknown): SubscriptionView[] {
  if (Array.isArray(body)) return body as SubscriptionView[];
  const items = (body as { items?: unknown; subscriptions?: unknown; data?: unknown } | null) ?? {};
  const list = items.items ?? items.subscriptions ?? items.data;
  return Array.isArray(list) ? (list as SubscriptionView[]) : [];
}

/** When the platform reports its projections, waits (a bounded time) until they have caught up with the log. */
async function waitForReadSide(client: PlatformClient): Promise<void> {
  const deadline = Date.now() + READ_SIDE_WAIT_MS;
  for (;;) {
    const answer = await client.request('GET', '/admin/projections');
    if (answer.status !== 200) return;
    const body = answer.body as { projections?: unknown } | unknown[];
    const projections = (Array.isArray(body) ? body : Array.isArray(body?.projections) ? body.projections : []) as {
      lag?: { events?: number };
    }[];
    if (projections.every((projection) => !projection.lag?.events) || Date.now() > deadline) return;
    await sleep(200);
  }
}
