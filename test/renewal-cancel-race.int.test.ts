import { afterAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { addMonths } from '../src/domain/subscription/period.ts';
import type { ChargeRequest, SimulatedGateway } from '../src/services/payments/gateway/index.ts';
import { ADMIN_TOKEN, openPlatform, type Mode, type PlatformFixture } from './support/platform-fixture.ts';
import { waitFor } from './support/wait-for.ts';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

/**
 * The race of issue 9: the customer cancels while the renewal's charge is at the gateway. The
 * charge went through, the renewal can no longer complete: the charge must be recorded and
 * refunded (PaymentProcessed then PaymentRefunded, the ledger reversed), never left silent.
 */
function raceSuite(mode: Mode) {
  describe(`a cancellation racing a renewal on ${mode}`, async () => {
    // `consumers: undefined`: the real reactions run, so the ledger posts the charge and its reversal.
    const fixture = (await openPlatform(mode, {}, { consumers: undefined })) as PlatformFixture;
    const skip = fixture === null;
    afterAll(async () => fixture?.close());

    const inject = (method: 'GET' | 'POST', url: string, payload?: object, headers: Record<string, string> = admin) =>
      fixture.platform.http.inject({ method, url, payload, headers });

    it.skipIf(skip)('refunds and records a renewal charged while the subscription was being cancelled', async () => {
      const response = await inject(
        'POST',
        '/register',
        { email: `race-${uuidv7()}@example.com`, name: 'Rae', planId: 'pro-monthly', paymentMethod: 'pm_card_visa' },
        {},
      );
      expect(response.statusCode, response.body).toBe(201);
      const { subscriptionId, customerId } = response.json() as { subscriptionId: string; customerId: string };

      // The cancellation lands while the renewal's charge is at the gateway: after it took effect, before its answer.
      const gateway = fixture.platform.gateway as SimulatedGateway;
      const charge = gateway.charge.bind(gateway);
      let cancelled = 0;
      gateway.charge = async (request: ChargeRequest) => {
        const result = await charge(request);
        if (request.idempotencyKey.startsWith(`${subscriptionId}:`)) {
          const cancel = await inject('POST', `/subscriptions/${subscriptionId}/cancel`, {
            atPeriodEnd: false,
            reason: 'changed my mind',
          });
          expect(cancel.statusCode, cancel.body).toBe(200);
          cancelled++;
        }
        return result;
      };
      try {
        const now = (await inject('GET', '/admin/clock')).json().now as string;
        const advance = await inject('POST', '/admin/clock/advance', {
          to: new Date(Date.parse(addMonths(now, 1)) + 3_600_000).toISOString(),
        });
        expect(advance.statusCode, advance.body).toBe(200);
      } finally {
        gateway.charge = charge;
      }
      expect(cancelled).toBe(1);

      // The gateway charged the card once for the renewal, and refunded it in full.
      const renewalCharges = (await gateway.listCharges({ customerId })).filter((c) =>
        c.idempotencyKey.startsWith(`${subscriptionId}:`),
      );
      expect(renewalCharges).toHaveLength(1);
      const [gatewayCharge] = renewalCharges;
      expect(gatewayCharge).toMatchObject({ status: 'succeeded' });
      await waitFor('the refund at the gateway', async () => {
        const [latest] = (await gateway.listCharges({ customerId })).filter(
          (c) => c.idempotencyKey === gatewayCharge!.idempotencyKey,
        );
        return latest?.amountRefunded === latest?.amount;
      });

      // The store explains it: the charge, then its refund; no renewal after the cancellation.
      // (The refund workflow records the refund once the gateway made it.)
      const rows = await waitFor('the refund recorded', async () => {
        const { rows } = await fixture.platform.db.query<{ type: string; data: Record<string, unknown> }>(
          `select type, data from events where (stream_id like 'payment-%' and data->>'subscriptionId' = $1) or stream_id = $2 order by position`,
          [subscriptionId, `subscription-${subscriptionId}`],
        );
        return rows.some((row) => row.type === 'PaymentRefunded') ? rows : null;
      });
      const payment = rows.filter((row) => row.type.startsWith('Payment'));
      expect(payment.map((row) => row.type)).toEqual(['PaymentProcessed', 'PaymentRefunded']);
      expect(payment[0]!.data).toMatchObject({
        purpose: 'renewal',
        periodIndex: 1,
        gatewayReference: gatewayCharge!.chargeId,
      });
      expect(payment[1]!.data).toMatchObject({
        paymentId: payment[0]!.data.paymentId,
        amount: gatewayCharge!.amount,
        reason: 'renewal_after_cancellation',
      });
      expect(rows.map((row) => row.type)).not.toContain('SubscriptionRenewed');

      // The renewal workflow completed, its refund step handing the charge to a refund workflow,
      // which gave it back: their histories say so.
      type Workflow = { id: string; subscriptionId?: string; paymentId?: string; status: string };
      const workflows = async (type: string) =>
        (await inject('GET', `/admin/workflows?type=${type}&limit=500`)).json().items as Workflow[];
      const historyOf = async (id: string) =>
        ((await inject('GET', `/admin/workflows/${id}`)).json().history as { type: string }[]).map((e) => e.type);
      const renewal = (await workflows('renewal')).find((item) => item.subscriptionId === subscriptionId);
      expect(renewal?.status).toBe('completed');
      expect(await historyOf(renewal!.id)).toEqual(['PaymentProcessed']);
      const paymentId = payment[0]!.data.paymentId as string;
      // PaymentRefunded is appended by the refund step; the workflow completes with that step's checkpoint, just after.
      const refund = await waitFor('the refund workflow to complete', async () => {
        const item = (await workflows('refund')).find((candidate) => candidate.paymentId === paymentId);
        return item?.status === 'completed' ? item : null;
      });
      expect(refund).toMatchObject({ status: 'completed', subscriptionId });
      expect(await historyOf(refund!.id)).toEqual(['PaymentRefunded']);

      // The ledger posted the charge and reversed it: no cash kept for that payment.
      const entries = await waitFor('the ledger to post the refund', async () => {
        const list = (await inject('GET', `/ledger/entries?paymentId=${paymentId}&limit=1000`)).json().entries as {
          kind: string;
          lines: { account: string; amount: number }[];
        }[];
        return list.some((entry) => entry.kind === 'refund') ? list : null;
      });
      const cash = entries
        .flatMap((entry) => entry.lines)
        .filter((line) => line.account === '1000')
        .reduce((total, line) => total + line.amount, 0);
      expect(cash).toBe(0);
    });
  });
}

raceSuite('embedded');
raceSuite('distributed');
