import { afterAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { addMonths } from '../src/domain/subscription/period.ts';
import { ADMIN_TOKEN, openPlatform, type Mode, type PlatformFixture } from './support/platform-fixture.ts';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

function renewalSuite(mode: Mode) {
  describe(`twelve simulated months of renewals on ${mode}`, async () => {
    const fixture = (await openPlatform(mode)) as PlatformFixture;
    const skip = fixture === null;
    afterAll(async () => fixture?.close());

    const inject = (
      method: 'GET' | 'POST' | 'PUT',
      url: string,
      payload?: object,
      headers: Record<string, string> = admin,
    ) => fixture.platform.http.inject({ method, url, payload, headers });
    const register = async (planId: string) => {
      const response = await inject(
        'POST',
        '/register',
        { email: `r-${uuidv7()}@example.com`, name: 'Renee', planId, paymentMethod: 'pm_card_visa' },
        {},
      );
      expect(response.statusCode).toBe(201);
      return response.json() as { subscriptionId: string; customerId: string; customerToken: string };
    };
    const advanceTo = async (to: string) => {
      const response = await inject('POST', '/admin/clock/advance', { to });
      expect(response.statusCode, response.body).toBe(200);
      return response.json() as { now: string; jobsRun: number };
    };
    /** The store's last position: reads after the clock's jobs (which return none) wait for the view to reach it. */
    const head = async () =>
      (await fixture.platform.db.query<{ p: number }>('select coalesce(max(position), 0)::int8 as p from events'))
        .rows[0]!.p;
    const setCard = async (customerId: string, paymentMethod: string) =>
      expect((await inject('PUT', `/customers/${customerId}/payment-method`, { paymentMethod })).statusCode).toBe(200);
    const history = async (subscriptionId: string) => {
      const { rows } = await fixture.platform.db.query<{
        type: string;
        data: Record<string, unknown>;
        occurred_at: Date;
      }>(
        `select type, data, occurred_at from events where stream_id = $1 or (type in ('PaymentProcessed', 'PaymentFailed') and data->>'subscriptionId' = $2) order by position`,
        [`subscription-${subscriptionId}`, subscriptionId],
      );
      const count = (type: string) => rows.filter((row) => row.type === type).length;
      return { rows, count };
    };

    it.skipIf(skip)(
      'charges, retries and cancels as the calendar says, and never charges after a cancellation',
      async () => {
        const clock = await inject('GET', '/admin/clock');
        expect(clock.statusCode).toBe(200);
        const start = clock.json().now as string;
        const at = (months: number, days = 0) =>
          new Date(Date.parse(addMonths(start, months)) + days * 86_400_000 + 3_600_000).toISOString();

        const steady = await register('pro-monthly');
        const yearly = await register('pro-yearly');
        const endsAtPeriodEnd = await register('starter-monthly');
        const cancelledNow = await register('pro-monthly-usd');
        const failing = await register('pro-monthly');
        const recovering = await register('pro-monthly');

        await advanceTo(at(1, 14)); // one renewal each for the monthly ones
        const cancelAtEnd = await inject('POST', `/subscriptions/${endsAtPeriodEnd.subscriptionId}/cancel`, {
          atPeriodEnd: true,
        });
        expect(cancelAtEnd.statusCode).toBe(200);
        expect(cancelAtEnd.json()).toMatchObject({
          status: 'active',
          cancelAt: addMonths(start, 2),
          cancellation: { atPeriodEnd: true },
        });
        const now = await inject('POST', `/subscriptions/${cancelledNow.subscriptionId}/cancel`, {
          atPeriodEnd: false,
          reason: 'too expensive',
        });
        expect(now.json()).toMatchObject({
          status: 'cancelled',
          cancellation: { atPeriodEnd: false, reason: 'too expensive' },
        });
        const again = await inject('POST', `/subscriptions/${cancelledNow.subscriptionId}/cancel`, {
          atPeriodEnd: false,
        });
        expect(again.statusCode).toBe(200);
        expect(again.json().position).toBeNull(); // idempotent: nothing new
        await setCard(failing.customerId, 'pm_card_chargeDeclinedInsufficientFunds');
        await setCard(recovering.customerId, 'pm_card_chargeDeclinedExpiredCard');

        await advanceTo(at(2)); // the failing cards fail their second renewal
        expect(
          (await inject('GET', `/subscriptions/${recovering.subscriptionId}?minPosition=${await head()}`)).json()
            .status,
        ).toBe('past_due');
        await setCard(recovering.customerId, 'pm_card_mastercard');
        await advanceTo(at(12, 2));

        const expectations: [typeof steady, number, string][] = [
          [steady, 12, 'active'],
          [yearly, 1, 'active'],
          [endsAtPeriodEnd, 1, 'ended'],
          [cancelledNow, 1, 'cancelled'],
          [failing, 1, 'cancelled'],
          [recovering, 12, 'active'],
        ];
        for (const [subscription, renewals, status] of expectations) {
          const { rows, count } = await history(subscription.subscriptionId);
          expect(count('SubscriptionRenewed'), subscription.subscriptionId).toBe(renewals);
          expect(rows.filter((row) => row.type === 'PaymentProcessed' && row.data.purpose === 'renewal')).toHaveLength(
            renewals,
          );
          expect(
            (await inject('GET', `/subscriptions/${subscription.subscriptionId}?minPosition=${await head()}`)).json()
              .status,
          ).toBe(status);
          const cancelled = rows.find((row) => row.type === 'SubscriptionCancelled');
          if (cancelled) {
            const charges = rows.filter(
              (row) => row.type === 'PaymentProcessed' && row.occurred_at > cancelled.occurred_at,
            );
            expect(charges).toEqual([]);
          }
        }
        const failed = await history(failing.subscriptionId);
        expect(failed.count('PaymentFailed')).toBe(4); // the renewal and three dunning retries (days 1, 3, 5)
        expect(failed.count('SubscriptionPastDue')).toBe(4);
        expect(failed.rows.find((row) => row.type === 'SubscriptionCancelled')?.data).toMatchObject({
          reason: 'payment_failed',
        });
        const recovered = await history(recovering.subscriptionId);
        expect(recovered.count('PaymentFailed')).toBe(1);
      },
    );

    it.skipIf(skip)('runs each renewal as a workflow an operator can follow: its steps and its history', async () => {
      const { subscriptionId } = await register('pro-monthly');
      const now = (await inject('GET', '/admin/clock')).json().now as string;
      await advanceTo(new Date(Date.parse(addMonths(now, 1)) + 3_600_000).toISOString());

      const list = await inject('GET', '/admin/workflows?type=renewal&status=completed&limit=500');
      expect(list.statusCode, list.body).toBe(200);
      const renewal = (list.json().items as { id: string; subscriptionId?: string }[]).find(
        (item) => item.subscriptionId === subscriptionId,
      );
      expect(renewal).toMatchObject({
        type: 'renewal',
        // Nothing to end, no refund due: those steps are passed over.
        steps: [{ name: 'charge', phase: 'run', status: 'completed' }],
      });
      const one = await inject('GET', `/admin/workflows/${renewal!.id}`);
      expect(one.statusCode, one.body).toBe(200);
      const history = one.json().history as { type: string; metadata: { actor: string } }[];
      expect(history.map((event) => event.type)).toEqual(['PaymentProcessed', 'SubscriptionRenewed']);
      expect(new Set(history.map((event) => event.metadata.actor))).toEqual(new Set([`renewal:${renewal!.id}`]));
    });

    it.skipIf(skip)('keeps the clock to admins, and never lets it go back', async () => {
      expect((await inject('GET', '/admin/clock', undefined, {})).statusCode).toBe(401);
      const now = (await inject('GET', '/admin/clock')).json().now as string;
      const back = await inject('POST', '/admin/clock/advance', {
        to: new Date(Date.parse(now) - 86_400_000).toISOString(),
      });
      expect(back.statusCode).toBe(400);
      expect((await inject('POST', '/admin/clock/advance', { days: -1 })).statusCode).toBe(400);
      expect((await inject('POST', '/admin/clock/advance', { hours: 2 })).json().now).toBe(
        new Date(Date.parse(now) + 7_200_000).toISOString(),
      );
    });
  });
}

renewalSuite('embedded');
renewalSuite('distributed');
