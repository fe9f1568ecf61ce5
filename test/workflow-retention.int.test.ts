import { afterAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import type { SimulatedGateway } from '../src/services/payments/gateway/index.ts';
import type { RegistrationFaults } from '../src/services/registration/registration-saga.ts';
import { registrationStream } from '../src/services/streams.ts';
import { pruneFinishedWorkflows } from '../src/services/workflows/workflow-retention.ts';
import { ADMIN_TOKEN, openPlatform, type Mode, type PlatformFixture } from './support/platform-fixture.ts';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** Finished workflows are forgotten after their retention; running and parked ones never are. */
function retentionSuite(mode: Mode) {
  describe(`workflow retention on ${mode}`, async () => {
    const faults: RegistrationFaults = {};
    // The parked registration waits for an operator: no automatic retry during the test.
    const fixture = (await openPlatform(mode, { WORKFLOW_PARKED_RETRY_MS: '600000' }, { faults })) as PlatformFixture;
    const skip = fixture === null;
    afterAll(async () => fixture?.close());

    const signUp = (body: object, key: string) =>
      fixture.platform.http.inject({
        method: 'POST',
        url: '/register',
        payload: body,
        headers: { 'idempotency-key': key },
      });
    const registration = (id: string) =>
      fixture.platform.http.inject({ method: 'GET', url: `/registrations/${id}`, headers: admin });
    const body = (name: string, paymentMethod = 'pm_card_visa') => ({
      email: `${name}-${uuidv7()}@example.com`,
      name,
      planId: 'pro-monthly',
      paymentMethod,
    });

    it.skipIf(skip)(
      'forgets completed and compensated registrations with their keys, keeps parked ones and every event',
      async () => {
        const { platform } = fixture;
        const completedBody = body('Ada');
        const completedKey = uuidv7();
        const completed = await signUp(completedBody, completedKey);
        expect(completed.statusCode, completed.body).toBe(201);
        const declined = await signUp(body('Bo', 'pm_card_chargeDeclined'), uuidv7());
        expect(declined.statusCode, declined.body).toBe(402);

        faults.failSubscriptionStep = true;
        (platform.gateway as SimulatedGateway).failNext(5, 'unavailable', 'refund');
        const parked = await signUp(body('Cy'), uuidv7());
        faults.failSubscriptionStep = false;
        (platform.gateway as SimulatedGateway).clearFaults();
        expect(parked.statusCode, parked.body).toBe(500);

        const ids = [completed, declined, parked].map((response) => response.json().registrationId as string);
        const now = platform.clock.now().getTime();
        // Finished at the clock's now (it stands still here): not before it, so kept.
        expect(await pruneFinishedWorkflows(platform.db, new Date(now))).toBe(0);
        expect(await pruneFinishedWorkflows(platform.db, new Date(now + 1))).toBe(2);

        expect((await registration(ids[0]!)).statusCode).toBe(404);
        expect((await registration(ids[1]!)).statusCode).toBe(404);
        expect((await registration(ids[2]!)).json()).toMatchObject({ status: 'compensation_failed' });
        const { rows } = await platform.db.query<{ n: number }>(
          'select count(*)::int as n from saga_steps where saga_id = any($1::text[])',
          [ids.slice(0, 2)],
        );
        expect(rows[0]!.n).toBe(0);
        // The history stays in the event store.
        const history = await platform.store.readStream(registrationStream(ids[0]!));
        expect(history.map((event) => event.type)).toContain('RegistrationCompleted');

        // The key is free again: the same request starts afresh, and its customer exists already.
        const again = await signUp(completedBody, completedKey);
        expect(again.statusCode, again.body).toBe(409);
        expect(again.json().registrationId).not.toBe(ids[0]);
      },
    );
  });
}

retentionSuite('embedded');
retentionSuite('distributed');
