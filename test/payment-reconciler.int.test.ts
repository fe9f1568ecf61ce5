import { afterAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import type { ChargeRequest, ChargeResult, SimulatedGateway } from '../src/services/payments/gateway/index.ts';
import type { RegistrationFaults } from '../src/services/registration/registration-saga.ts';
import { openPlatform, type Mode, type PlatformFixture } from './support/platform-fixture.ts';
import { waitFor } from './support/wait-for.ts';

/**
 * A registration charge attempt that outlives the step's timeout and reaches the gateway only
 * after the saga compensated: the charge must be recorded and refunded, whether the late attempt
 * still records its answer or its answer is lost (the reconciler settles it with `retrieve`).
 */
function reconcilerSuite(mode: Mode) {
  describe(`charges landing after a registration compensated, on ${mode}`, async () => {
    const faults: RegistrationFaults = { chargeTimeoutMs: 200 };
    const fixture = (await openPlatform(mode, { PAYMENT_INTENT_WINDOW_MS: '500' }, { faults })) as PlatformFixture;
    const skip = fixture === null;
    afterAll(async () => fixture?.close());

    it.skipIf(skip).each([
      ['the late attempt records its answer', false],
      ['the late attempt loses its answer', true],
    ])('refunds and records the charge when %s', async (_name, answerLost) => {
      const gateway = fixture.platform.gateway as SimulatedGateway;
      const charge = gateway.charge.bind(gateway);
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      gateway.charge = async (request: ChargeRequest): Promise<ChargeResult> => {
        await held; // every attempt is still in flight when the step gives up
        const result = await charge(request);
        if (answerLost) throw new Error('connection reset after the charge');
        return result;
      };
      let registrationId: string;
      try {
        const response = await fixture.platform.http.inject({
          method: 'POST',
          url: '/register',
          payload: {
            email: `late-${uuidv7()}@example.com`,
            name: 'Lou',
            planId: 'pro-monthly',
            paymentMethod: 'pm_card_visa',
          },
        });
        expect(response.statusCode, response.body).toBe(503);
        registrationId = response.json().registrationId as string;
        expect((await fixture.platform.registrations.get(registrationId))?.status).toBe('compensated');
        expect(await gateway.retrieve(`${registrationId}:charge`)).toBeNull(); // nothing charged when it compensated
        release();
        await waitFor('the late charge at the gateway', () => gateway.retrieve(`${registrationId}:charge`));
      } finally {
        release();
        gateway.charge = charge;
      }

      const key = `${registrationId}:charge`;
      await waitFor('the late charge to be refunded', async () => {
        const known = await gateway.retrieve(key);
        return known?.status === 'succeeded' && known.amountRefunded === known.amount;
      }).catch(async (error: unknown) => {
        const { rows } = await fixture.platform.db.query('select * from payment_intents where idempotency_key = $1', [
          key,
        ]);
        throw new Error(`${String(error)}; intent: ${JSON.stringify(rows[0])}`);
      });
      const intent = async () =>
        (
          await fixture.platform.db.query<{ status: string }>(
            'select * from payment_intents where idempotency_key = $1',
            [key],
          )
        ).rows[0];
      await waitFor('the intent to be settled as refunded', async () => (await intent())?.status === 'refunded');
      const { paymentId } = (await fixture.platform.registrations.get(registrationId))!.state;
      const payment = await fixture.platform.store.readStream(`payment-${paymentId}`);
      expect(payment.map((event) => event.type)).toEqual(['PaymentProcessed', 'PaymentRefunded']);
      expect(payment[1]!.data).toMatchObject({ reason: 'registration_failed' });
      // The registration recorded its charge; a refund workflow of its own gave it back, in its correlation.
      expect(payment[0]!.metadata.actor).toBe(`registration:${registrationId}`);
      expect(payment[1]!.metadata).toMatchObject({
        actor: expect.stringMatching(/^refund:/),
        correlationId: registrationId,
      });
      // The refund is recorded by the workflow's step, which then completes it in its checkpoint.
      const refund = (await fixture.platform.sagas.waitFor(payment[1]!.metadata.actor.slice('refund:'.length), 5_000))!;
      expect(refund).toMatchObject({
        type: 'refund',
        status: 'completed',
        state: { paymentId, flowId: registrationId },
      });
    });
  });
}

reconcilerSuite('embedded');
reconcilerSuite('distributed');
