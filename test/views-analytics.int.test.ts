import { v7 as uuidv7 } from 'uuid';
import { afterAll, describe, expect, it } from 'vitest';
import { addMonths } from '../src/domain/subscription/period.ts';
import { ADMIN_TOKEN, openPlatform, type Mode, type PlatformFixture } from './support/platform-fixture.ts';
import { waitFor } from './support/wait-for.ts';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const DAY_MS = 86_400_000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows and answers are checked against the recomputation
type Data = Record<string, any>;
type Money = { currency: string; amount: number };
type Series = { currency: string | null; points: { start: string; end: string; value: number }[] }[];

const dayOf = (instant: string | number | Date) => new Date(instant).toISOString().slice(0, 10);
const addDays = (day: string, days: number) => dayOf(Date.parse(`${day}T00:00:00.000Z`) + days * DAY_MS);
const earliest = (a: string | null, b: string) => (a === null || Date.parse(b) < Date.parse(a) ? b : a);
const byCurrency = (totals: Map<string, number>): Money[] =>
  [...totals]
    .filter(([, amount]) => amount !== 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, amount]) => ({ currency, amount }));
const add = (totals: Map<string, number>, key: string, amount: number) =>
  totals.set(key, (totals.get(key) ?? 0) + amount);

interface BruteSubscription {
  customerId: string;
  planId: string;
  currency: string;
  mrr: number;
  start: string;
  requested: string | null;
  /** When its MRR churns: the earliest cancellation's effectiveAt. */
  churnAt: string | null;
  /** When it stopped being active: SubscriptionEnded, or a cancellation taking effect at once. */
  ended: string | null;
}

/** The analytics recomputed straight from the event store's rows, sharing no code with the view. */
function bruteForce(rows: { type: string; data: Data }[], now: Date) {
  const subscriptions = new Map<string, BruteSubscription>();
  const registered = new Map<string, string>();
  const revenue: { day: string; currency: string; amount: number }[] = [];
  for (const { type, data } of rows) {
    if (type === 'CustomerRegistered') registered.set(data.customerId, data.registeredAt);
    if (type === 'SubscriptionCreated') {
      const mrr = data.interval === 'year' ? Math.round(data.price.amount / 12) : data.price.amount;
      subscriptions.set(data.subscriptionId, {
        customerId: data.customerId,
        planId: data.planId,
        currency: data.price.currency,
        mrr,
        start: data.createdAt,
        requested: null,
        churnAt: null,
        ended: null,
      });
    }
    if (type === 'SubscriptionCancelled') {
      const subscription = subscriptions.get(data.subscriptionId)!;
      subscription.requested = earliest(subscription.requested, data.requestedAt);
      subscription.churnAt = earliest(subscription.churnAt, data.effectiveAt);
      if (Date.parse(data.effectiveAt) <= Date.parse(data.requestedAt))
        subscription.ended = earliest(subscription.ended, data.effectiveAt);
    }
    if (type === 'SubscriptionEnded') subscriptions.get(data.subscriptionId)!.ended = data.endedAt;
    if (type === 'PaymentProcessed')
      revenue.push({ day: dayOf(data.processedAt), currency: data.currency, amount: data.amount });
    if (type === 'PaymentRefunded')
      revenue.push({ day: dayOf(data.refundedAt), currency: data.currency, amount: -data.amount });
  }
  const all = [...subscriptions.values()];
  const at = (time: number) => (instant: string | null) => instant !== null && Date.parse(instant) <= time;
  const mrrAt = (time: number) => {
    const totals = new Map<string, number>();
    for (const s of all) if (at(time)(s.start) && !at(time)(s.churnAt)) add(totals, s.currency, s.mrr);
    return totals;
  };

  const lastDay = dayOf(now);
  const firstDay = addDays(lastDay, -29);
  const windowStart = Date.parse(`${firstDay}T00:00:00.000Z`);
  const inWindow = (instant: string | null) =>
    instant !== null && Date.parse(instant) >= windowStart && Date.parse(instant) <= now.getTime();
  const active = all.filter((s) => s.ended === null);
  const byPlan = new Map<string, number>();
  for (const s of active) add(byPlan, s.planId, 1);
  const activeMrr = new Map<string, number>();
  for (const s of active) add(activeMrr, s.currency, s.mrr);
  const atStart = all.filter(
    (s) => Date.parse(s.start) < windowStart && !(s.ended !== null && Date.parse(s.ended) < windowStart),
  );
  const churned = atStart.filter((s) => s.ended !== null && Date.parse(s.ended) <= now.getTime()).length;
  const windowRevenue = new Map<string, number>();
  for (const r of revenue) if (r.day >= firstDay && r.day <= lastDay) add(windowRevenue, r.currency, r.amount);

  const days = Array.from({ length: 30 }, (_, i) => addDays(firstDay, i));
  const countPerDay = (instants: string[]) =>
    days.map((day) => instants.filter((instant) => dayOf(instant) === day).length);
  const dayEnd = (day: string) => Math.min(Date.parse(`${addDays(day, 1)}T00:00:00.000Z`) - 1, now.getTime());

  const cohorts = new Map<
    string,
    { customers: number; retention: Map<number, { observed: number; retained: number }> }
  >();
  for (const [customerId, registeredAt] of registered) {
    const month = registeredAt.slice(0, 7);
    const cohort = cohorts.get(month) ?? { customers: 0, retention: new Map() };
    cohort.customers++;
    for (let k = 0; Date.parse(addMonths(registeredAt, k)) <= now.getTime(); k++) {
      const t = Date.parse(addMonths(registeredAt, k));
      const retained = all.some((s) => s.customerId === customerId && at(t)(s.start) && !at(t)(s.churnAt));
      const entry = cohort.retention.get(k) ?? { observed: 0, retained: 0 };
      entry.observed++;
      if (retained) entry.retained++;
      cohort.retention.set(k, entry);
    }
    cohorts.set(month, cohort);
  }

  return {
    firstDay,
    lastDay,
    summary: {
      activeSubscriptions: {
        total: active.length,
        byPlan: [...byPlan].sort(([a], [b]) => a.localeCompare(b)).map(([planId, count]) => ({ planId, count })),
      },
      mrr: byCurrency(activeMrr),
      arr: byCurrency(new Map([...activeMrr].map(([currency, amount]) => [currency, amount * 12]))),
      signups: [...registered.values()].filter(inWindow).length,
      cancellations: all.filter((s) => inWindow(s.requested)).length,
      churn: { rate: atStart.length ? churned / atStart.length : null, activeAtWindowStart: atStart.length, churned },
      revenue: byCurrency(windowRevenue),
    },
    daily: {
      signups: countPerDay([...registered.values()]),
      cancellations: countPerDay(all.flatMap((s) => (s.requested ? [s.requested] : []))),
      revenue: (currency: string) =>
        days.map((day) =>
          revenue.filter((r) => r.day === day && r.currency === currency).reduce((sum, r) => sum + r.amount, 0),
        ),
      mrr: (currency: string) => days.map((day) => mrrAt(dayEnd(day)).get(currency) ?? 0),
    },
    cohorts: [...cohorts]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([month, cohort]) => ({
        month,
        customers: cohort.customers,
        retention: [...cohort.retention].map(([k, { observed, retained }]) => ({
          monthsAfterSignup: k,
          observed,
          retained,
          rate: retained / observed,
        })),
      })),
    facts: {
      signups: registered.size,
      subscriptions: all.length,
      churned: all.filter((s) => s.churnAt !== null).length,
    },
  };
}

function analyticsSuite(mode: Mode) {
  describe(`analytics view on ${mode}`, async () => {
    const fixture = (await openPlatform(mode, {}, { consumers: undefined })) as PlatformFixture;
    const skip = fixture === null;
    afterAll(async () => fixture?.close());

    const inject = (
      method: 'GET' | 'POST' | 'PUT',
      url: string,
      payload?: object,
      headers: Record<string, string> = admin,
    ) => fixture.platform.http.inject({ method, url, payload, headers });
    const register = async (planId: string, paymentMethod = 'pm_card_visa') => {
      const response = await inject(
        'POST',
        '/register',
        { email: `a-${uuidv7()}@example.com`, name: 'Ana Lytics', planId, paymentMethod },
        {},
      );
      return {
        statusCode: response.statusCode,
        ...(response.json() as { subscriptionId: string; customerId: string }),
      };
    };
    const registered = async (planId: string) => {
      const result = await register(planId);
      expect(result.statusCode).toBe(201);
      return result;
    };
    const advanceTo = async (to: string) =>
      expect((await inject('POST', '/admin/clock/advance', { to })).statusCode).toBe(200);
    const cancel = async (subscriptionId: string, atPeriodEnd: boolean, reason?: string) =>
      expect(
        (
          await inject('POST', `/subscriptions/${subscriptionId}/cancel`, {
            atPeriodEnd,
            ...(reason ? { reason } : {}),
          })
        ).statusCode,
      ).toBe(200);
    const get = async <T>(url: string, headers: Record<string, string> = admin): Promise<T> => {
      const response = await inject('GET', url, undefined, headers);
      expect(response.statusCode, response.body).toBe(200);
      return response.json() as T;
    };

    it.skipIf(skip)('agrees with itself and with a recomputation from the event store', async () => {
      const start = (await get<{ now: string }>('/admin/clock')).now;
      const at = (days: number) => new Date(Date.parse(start) + days * DAY_MS).toISOString();

      const monthly = await registered('pro-monthly');
      const yearly = await registered('pro-yearly');
      await registered('starter-yearly');
      await registered('pro-monthly-usd');
      const endsAtPeriodEnd = await registered('starter-monthly');
      expect((await register('pro-monthly', 'pm_card_chargeDeclined')).statusCode).toBe(402);
      await cancel(endsAtPeriodEnd.subscriptionId, true);

      await advanceTo(at(20));
      const usdLater = await registered('pro-monthly-usd');
      const failing = await registered('pro-monthly');
      await cancel(monthly.subscriptionId, false, 'too expensive');

      await advanceTo(at(40)); // renewals; the one cancelled at period end has ended
      await registered('starter-monthly');
      await cancel(usdLater.subscriptionId, true);
      await cancel(yearly.subscriptionId, false);
      expect(
        (
          await inject('PUT', `/customers/${failing.customerId}/payment-method`, {
            paymentMethod: 'pm_card_chargeDeclinedInsufficientFunds',
          })
        ).statusCode,
      ).toBe(200);

      await advanceTo(at(66)); // the failing card is declined, retried, and cancelled for non-payment
      await registered('pro-yearly');
      await registered('pro-monthly-usd');

      const now = new Date((await get<{ now: string }>('/admin/clock')).now);
      const { rows } = await fixture.platform.db.query<{ type: string; data: Data; position: string }>(
        'select type, data, position from events order by position',
      );
      const expected = bruteForce(rows, now);
      const position = Number(rows[rows.length - 1]!.position);
      expect(rows.some((row) => row.type === 'SubscriptionEnded')).toBe(true);
      expect(rows.some((row) => row.type === 'SubscriptionCancelled' && row.data.reason === 'payment_failed')).toBe(
        true,
      );
      expect(rows.some((row) => row.type === 'SubscriptionRenewed' && row.data.currency === 'USD')).toBe(true);

      // The pipeline follows the bus: wait until every fact it owes has arrived.
      await waitFor('the analytics pipeline to catch up', async () => {
        const { rows: facts } = await fixture.platform.db.query<{ kind: string; count: number; incomplete: number }>(
          `select kind, count(*)::int as count, (count(*) filter (where cohort_month is null or (kind <> 'signup' and mrr_delta is null)))::int as incomplete from analytics_facts group by kind`,
        );
        const count = (kind: string) => facts.find((fact) => fact.kind === kind)?.count ?? 0;
        return (
          count('signup') === expected.facts.signups &&
          count('new') === expected.facts.subscriptions &&
          count('churned') === expected.facts.churned &&
          facts.every((fact) => fact.incomplete === 0)
        );
      });

      const summary = await get<Data>(`/analytics/summary?minPosition=${position}`);
      expect(summary).toMatchObject({
        ...expected.summary,
        activeSubscriptions: { total: expected.summary.activeSubscriptions.total },
      });
      expect(summary.activeSubscriptions.byPlan.map(({ planId, count }: Data) => ({ planId, count }))).toEqual(
        expected.summary.activeSubscriptions.byPlan,
      );
      expect(summary.activeSubscriptions.byPlan.find((plan: Data) => plan.planId === 'pro-yearly').planName).toBe(
        'Pro (yearly)',
      );
      expect(summary.mrr.map((m: Money) => m.currency)).toEqual(['EUR', 'USD']);
      expect(summary.signups).toBeGreaterThan(0);
      expect(summary.cancellations).toBeGreaterThan(0);
      expect(summary.churn.churned).toBeGreaterThan(0);

      const { firstDay, lastDay } = expected;
      const series = async (metric: string, interval = 'day') =>
        (
          await get<{ series: Series }>(
            `/analytics/timeseries?metric=${metric}&from=${firstDay}&to=${lastDay}&interval=${interval}`,
            { ...admin, 'x-min-position': String(position) },
          )
        ).series;
      const values = (s: Series, currency: string | null = null) =>
        s.find((one) => one.currency === currency)?.points.map((point) => point.value);
      const sum = (numbers: number[] | undefined) => (numbers ?? []).reduce((a, b) => a + b, 0);

      const signups = await series('signups');
      expect(signups[0]!.points).toHaveLength(30);
      expect(values(signups)).toEqual(expected.daily.signups);
      expect(sum(values(signups))).toBe(summary.signups);
      const cancellations = await series('cancellations');
      expect(values(cancellations)).toEqual(expected.daily.cancellations);
      expect(sum(values(cancellations))).toBe(summary.cancellations);

      const mrr = await series('mrr');
      const revenue = await series('revenue');
      for (const currency of ['EUR', 'USD']) {
        expect(values(mrr, currency), `mrr ${currency}`).toEqual(expected.daily.mrr(currency));
        expect(values(mrr, currency)!.at(-1)).toBe(summary.mrr.find((m: Money) => m.currency === currency).amount);
        expect(values(revenue, currency), `revenue ${currency}`).toEqual(expected.daily.revenue(currency));
        expect(sum(values(revenue, currency))).toBe(summary.revenue.find((m: Money) => m.currency === currency).amount);
      }

      // Weeks and months add up the same days; MRR is a level, so its last point stays.
      for (const interval of ['week', 'month']) {
        expect(sum(values(await series('signups', interval)))).toBe(summary.signups);
        expect(sum(values(await series('revenue', interval), 'EUR'))).toBe(sum(values(revenue, 'EUR')));
        expect(values(await series('mrr', interval), 'USD')!.at(-1)).toBe(values(mrr, 'USD')!.at(-1));
      }

      const cohorts = await get<{ cohorts: Data[] }>('/analytics/cohorts');
      expect(cohorts.cohorts).toEqual(expected.cohorts);
      expect(cohorts.cohorts.every((cohort) => cohort.retention[0].rate === 1)).toBe(true);
      expect(cohorts.cohorts.some((cohort) => cohort.retention.some((r: Data) => r.rate < 1))).toBe(true);
      const firstCohort = cohorts.cohorts[0]!.month as string;

      // A rebuild replaces the projection's schema only: the same summary, and the pipeline's facts stay.
      expect((await inject('POST', '/admin/projections/analytics/rebuild')).statusCode).toBeLessThan(300);
      await waitFor(
        'the rebuild to finish',
        async () =>
          (await get<{ projections: Data[] }>('/admin/projections')).projections.find((p) => p.name === 'analytics')
            ?.lastRebuild,
      );
      const rebuilt = await get<Data>(`/analytics/summary?minPosition=${position}`);
      expect({ ...rebuilt, asOf: null, window: null }).toEqual({ ...summary, asOf: null, window: null });
      expect(await series('mrr')).toEqual(mrr);
      expect(
        (await get<{ cohorts: Data[] }>(`/analytics/cohorts?from=${firstCohort}&to=${firstCohort}`)).cohorts.map(
          (c) => c.month,
        ),
      ).toEqual([firstCohort]);
    });

    it.skipIf(skip)('needs the admin token, and refuses bad parameters with 400 problem+json', async () => {
      const customer = await registered('starter-monthly');
      const customerToken = (
        await inject(
          'POST',
          '/register',
          { email: `b-${uuidv7()}@example.com`, name: 'B', planId: 'pro-monthly', paymentMethod: 'pm_card_visa' },
          {},
        )
      ).json().customerToken as string;
      for (const url of [
        '/analytics/summary',
        '/analytics/timeseries?metric=signups&from=2026-01-01&to=2026-01-31',
        '/analytics/cohorts',
      ]) {
        expect((await inject('GET', url, undefined, {})).statusCode, url).toBe(401);
        expect(
          (await inject('GET', url, undefined, { authorization: `Bearer ${customerToken}` })).statusCode,
          url,
        ).toBe(401);
      }
      expect(customer.customerId).toBeTruthy();

      const bad = [
        '/analytics/timeseries?metric=profit&from=2026-01-01&to=2026-01-31',
        '/analytics/timeseries?metric=signups&from=2026-02-30&to=2026-03-31',
        '/analytics/timeseries?metric=signups&from=2026-03-01&to=2026-01-31',
        '/analytics/timeseries?metric=signups&from=2026-01-01&to=2026-01-31&interval=hour',
        '/analytics/timeseries?metric=signups&from=2020-01-01&to=2026-01-31',
        '/analytics/timeseries?metric=signups&from=2026-01-01&to=2026-01-31&colour=blue',
        '/analytics/summary?minPosition=-1',
        '/analytics/cohorts?from=2026-13',
        '/analytics/cohorts?from=2026-05&to=2026-01',
      ];
      for (const url of bad) {
        const response = await inject('GET', url);
        expect(response.statusCode, url).toBe(400);
        expect(response.headers['content-type'], url).toContain('application/problem+json');
      }
      const badHeader = await inject('GET', '/analytics/summary', undefined, { ...admin, 'x-min-position': 'soon' });
      expect(badHeader.statusCode).toBe(400);
      // A long range is fine in longer buckets.
      expect(
        (await inject('GET', '/analytics/timeseries?metric=revenue&from=2020-01-01&to=2026-01-31&interval=month'))
          .statusCode,
      ).toBe(200);
      // Without from, the 30 days ending at to (issue 10: the last 30 days by default).
      const defaulted = await inject('GET', '/analytics/timeseries?metric=signups&to=2026-01-31');
      expect(defaulted.statusCode).toBe(200);
      expect(defaulted.json()).toMatchObject({ from: '2026-01-02', to: '2026-01-31', interval: 'day' });
    });

    it.skipIf(skip)('is documented in the OpenAPI document', async () => {
      const document = (await inject('GET', '/openapi.json', undefined, {})).json() as Data;
      for (const path of ['/analytics/summary', '/analytics/timeseries', '/analytics/cohorts']) {
        expect(document.paths[path]?.get?.tags, path).toEqual(['analytics']);
        expect(document.paths[path].get.security, path).toEqual([{ bearer: [] }]);
      }
    });
  });
}

analyticsSuite('embedded');
analyticsSuite('distributed');
