import { afterAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { listWorkflows, retryWorkflow } from '../src/cli/workflows-command.ts';
import type { SimulatedGateway } from '../src/services/payments/gateway/index.ts';
import type { RegistrationFaults } from '../src/services/registration/registration-saga.ts';
import { ADMIN_TOKEN, openPlatform, type Mode, type PlatformFixture } from './support/platform-fixture.ts';
import { waitFor } from './support/wait-for.ts';
import { findIntent, settleIntent } from '../src/services/payments/intents/payment-intent.ts';
import { REFUND_WORKFLOW, refundStateOf, refundWorkflowId } from '../src/services/payments/refund-workflow.ts';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

interface WorkflowJson {
  id: string;
  type: string;
  status: string;
  customerId?: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  steps: { name: string; phase: string; status: string; attempts: number; error?: string }[];
  history?: { type: string; streamId: string; occurredAt: string; metadata: { actor: string } }[];
}

/** A registration parked because refunds are refused: nothing stays parked in silence. */
function workflowSuite(mode: Mode) {
  describe(`parked workflows on ${mode}`, async () => {
    const faults: RegistrationFaults = {};
    // Parked workflows wait for the operator here: the automatic retry (2 s by default) would race the test.
    const fixture = (await openPlatform(mode, { WORKFLOW_PARKED_RETRY_MS: '600000' }, { faults })) as PlatformFixture;
    const skip = fixture === null;
    afterAll(async () => fixture?.close());

    const inject = (method: 'GET' | 'POST', url: string, payload?: object, headers: Record<string, string> = admin) =>
      fixture.platform.http.inject({ method, url, payload, headers });
    const gateway = () => fixture.platform.gateway as SimulatedGateway;
    const signUp = (name: string) =>
      inject(
        'POST',
        '/register',
        { email: `${name}-${uuidv7()}@example.com`, name, planId: 'pro-monthly', paymentMethod: 'pm_card_visa' },
        {},
      );
    /** A registration whose subscription step fails and whose refund the gateway refuses five times: parked. */
    const parkedRegistration = async (): Promise<string> => {
      faults.failSubscriptionStep = true;
      gateway().failNext(5, 'unavailable', 'refund');
      try {
        const response = await signUp('Pat');
        expect(response.statusCode, response.body).toBe(500);
        return response.json().registrationId as string;
      } finally {
        faults.failSubscriptionStep = false;
        gateway().clearFaults();
      }
    };
    const parkedGauge = async () => {
      const metrics = (await inject('GET', '/metrics')).body;
      return Number(/tributary_saga_compensation_failed\{type="registration"\} (\d+)/.exec(metrics)?.[1] ?? NaN);
    };

    it.skipIf(skip)(
      'lists a parked registration, shows its history, retries it on request (recorded), and the gauge falls',
      async () => {
        const id = await parkedRegistration();
        const list = await inject('GET', '/admin/workflows?status=compensation_failed&type=registration&limit=100');
        expect(list.statusCode, list.body).toBe(200);
        const { items, nextCursor } = list.json() as { items: WorkflowJson[]; nextCursor: string | null };
        expect(nextCursor).toBeNull();
        const parked = items.find((item) => item.id === id)!;
        expect(parked).toMatchObject({
          type: 'registration',
          status: 'compensation_failed',
          attempts: 1,
          customerId: expect.any(String),
        });
        expect(Date.parse(parked.nextAttemptAt!)).toBeGreaterThan(Date.now());
        expect(parked.lastError).toContain('simulated outage');
        expect(parked.steps.find((step) => step.name === 'charge' && step.phase === 'compensate')).toMatchObject({
          status: 'failed',
          attempts: 5,
        });
        await waitFor('the parked gauge, from the store', async () => (await parkedGauge()) >= 1);

        const one = (await inject('GET', `/admin/workflows/${id}`)).json() as WorkflowJson;
        // Its own history (the Registration's events) among its effects, in log order.
        const parkedHistory = [
          'CustomerCreated',
          'RegistrationStarted',
          'RegistrationCustomerCreated',
          'PaymentProcessed',
          'RegistrationPaymentCharged',
          'RegistrationCompensating',
          'RegistrationCompensationFailed',
        ];
        expect(one.history!.map((event) => event.type)).toEqual(parkedHistory);
        expect(
          one.history!.every(
            (event) => event.metadata.actor === `registration:${id}` && !Number.isNaN(Date.parse(event.occurredAt)),
          ),
        ).toBe(true);

        const retry = await inject('POST', `/admin/workflows/${id}/retry`);
        expect(retry.statusCode, retry.body).toBe(202);
        expect(retry.json()).toEqual({ id, status: 'compensating' });
        await waitFor(
          'the retried registration to compensate',
          async () => (await fixture.platform.registrations.get(id))?.status === 'compensated',
        );
        const after = (await inject('GET', `/admin/workflows/${id}`)).json() as WorkflowJson;
        expect(after.status).toBe('compensated');
        expect(after.history!.map((event) => event.type)).toEqual([
          ...parkedHistory,
          'WorkflowRetried',
          'PaymentRefunded',
          'CustomerDeleted',
          'RegistrationCompensated',
        ]);
        expect(after.history!.find((event) => event.type === 'WorkflowRetried')!.metadata.actor).toBe('admin');
        await waitFor('the parked gauge to fall', async () => (await parkedGauge()) === 0);

        // Not parked (any more), or unknown: nothing to retry.
        const again = await inject('POST', `/admin/workflows/${id}/retry`);
        expect(again.statusCode).toBe(409);
        expect(again.headers['content-type']).toContain('application/problem+json');
        expect((await inject('POST', `/admin/workflows/${uuidv7()}/retry`)).statusCode).toBe(404);
        expect((await inject('GET', `/admin/workflows/${uuidv7()}`)).statusCode).toBe(404);
        expect((await inject('GET', '/admin/workflows', undefined, {})).statusCode).toBe(401);
        expect((await inject('GET', '/admin/workflows?status=lost')).statusCode).toBe(400);
      },
    );

    it.skipIf(skip)('pages through workflows newest first', async () => {
      for (let i = 0; i < 3; i++) {
        const response = await signUp('Lee');
        expect(response.statusCode).toBe(201);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = (
          await inject('GET', `/admin/workflows?type=registration&limit=2${cursor ? `&cursor=${cursor}` : ''}`)
        ).json() as { items: WorkflowJson[]; nextCursor: string | null };
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((item) => item.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual([...seen].sort().reverse());
      expect(seen.length).toBeGreaterThanOrEqual(3);
    });

    it.skipIf(skip)('shows an erasure as a workflow whose history is what it did for its request', async () => {
      const registered = await signUp('Eve');
      expect(registered.statusCode).toBe(201);
      const { customerId, subscriptionId } = registered.json() as { customerId: string; subscriptionId: string };
      expect((await inject('POST', `/customers/${customerId}/erase`)).statusCode).toBe(200);

      const page = (await inject('GET', '/admin/workflows?type=erasure&status=completed')).json() as {
        items: WorkflowJson[];
      };
      const erasure = page.items.find((item) => item.customerId === customerId);
      expect(erasure?.steps.map((step) => step.name)).toEqual(['cancel-subscriptions', 'shred-key', 'revoke-tokens']);
      const { history } = (await inject('GET', `/admin/workflows/${erasure!.id}`)).json() as WorkflowJson;
      expect(history!.map((event) => [event.type, event.streamId])).toEqual([
        ['SubscriptionCancelled', `subscription-${subscriptionId}`],
        ['CustomerDeleted', `customer-${customerId}`],
      ]);
    });

    it.skipIf(skip)('parks a refund the gateway keeps refusing, and gives the charge back when retried', async () => {
      const registered = await signUp('Rae');
      expect(registered.statusCode).toBe(201);
      const { registrationId, paymentId } = registered.json() as { registrationId: string; paymentId: string };
      // A charge its flow can no longer use (as a cancellation racing a renewal leaves one): a refund workflow gives it back.
      const { db, sagas } = fixture.platform;
      const key = `${registrationId}:charge`;
      await settleIntent(db, key, { status: 'refund_due', refundReason: 'registration_failed' });
      gateway().failNext(3, 'unavailable', 'refund');
      const intent = (await findIntent(db, key))!;
      const id = refundWorkflowId(intent);
      await sagas.launch(REFUND_WORKFLOW, id, refundStateOf(intent));
      const parked = await waitFor('the refund to park', async () => {
        const one = (await inject('GET', `/admin/workflows/${id}`)).json() as WorkflowJson;
        return one.status === 'compensation_failed' ? one : null;
      });
      gateway().clearFaults();
      expect(parked).toMatchObject({ type: 'refund', attempts: 1, lastError: expect.stringContaining('outage') });
      expect(parked.steps).toEqual([
        expect.objectContaining({ name: 'refund', phase: 'run', status: 'failed', attempts: 3 }),
      ]);
      expect((await findIntent(db, key))!.status).toBe('refund_due');

      const retry = await inject('POST', `/admin/workflows/${id}/retry`);
      expect(retry.json()).toEqual({ id, status: 'running' });
      const done = await waitFor('the retried refund to complete', async () => {
        const one = (await inject('GET', `/admin/workflows/${id}`)).json() as WorkflowJson;
        return one.status === 'completed' ? one : null;
      });
      expect(done.history!.map((event) => [event.type, event.metadata.actor])).toEqual([
        ['WorkflowRetried', 'admin'],
        ['PaymentRefunded', `refund:${id}`],
      ]);
      expect((await findIntent(db, key))!.status).toBe('refunded');
      const charge = (await gateway().retrieve(key))!;
      expect(charge.amountRefunded).toBe(charge.amount);
      const payment = await fixture.platform.store.readStream(`payment-${paymentId}`);
      expect(payment.map((event) => event.type)).toEqual(['PaymentProcessed', 'PaymentRefunded']);
    });

    it.skipIf(skip)('tributary workflows list|retry does the same from the CLI', async () => {
      const id = await parkedRegistration();
      const lines: string[] = [];
      await listWorkflows(fixture.platform, { status: 'compensation_failed' }, (line) => lines.push(line));
      expect(lines.find((line) => line.startsWith(id))).toMatch(/\tregistration\tcompensation_failed\t1\t/);
      lines.length = 0;
      await retryWorkflow(fixture.platform, id, (line) => lines.push(line));
      expect(lines).toEqual([`${id}: compensating`, `${id}: compensated`]);
    });
  });
}

workflowSuite('embedded');
workflowSuite('distributed');
