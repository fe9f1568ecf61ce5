import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../../test/support/wait-for.ts';
import { buildGatewayServer } from './gateway-server.ts';
import { startGatewayService } from './gateway-service.ts';
import { paymentGatewayContract } from './gateway.contract.ts';
import {
  GatewayTimeoutError,
  GatewayUnavailableError,
  InvalidGatewayRequestError,
  UnknownPaymentMethodError,
  type ChargeRequest,
  type PaymentGateway,
} from './gateway.ts';
import { HttpGateway } from './http-gateway.ts';
import { SimulatedGateway } from './simulated-gateway.ts';

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

paymentGatewayContract('HttpGateway → gateway server → SimulatedGateway', async () => {
  const simulator = new SimulatedGateway();
  const server = buildGatewayServer(simulator, { apiKey: 'sk_test_contract' });
  const baseUrl = await listen(server);
  return {
    gateway: new HttpGateway({ baseUrl, apiKey: 'sk_test_contract', timeoutMs: 5_000 }),
    simulator,
    close: () => server.close(),
  };
});

const charge = (overrides: Partial<ChargeRequest> = {}): ChargeRequest => ({
  idempotencyKey: `registration-${randomUUID()}:charge`,
  amount: 2900,
  currency: 'EUR',
  paymentMethod: 'pm_card_visa',
  customerId: randomUUID(),
  description: 'Tributary Pro (monthly)',
  ...overrides,
});

describe('HttpGateway and the gateway server', () => {
  let simulator: SimulatedGateway;
  let server: FastifyInstance;
  let baseUrl: string;
  beforeAll(async () => {
    simulator = new SimulatedGateway();
    server = buildGatewayServer(simulator, { simulator });
    baseUrl = await listen(server);
  });
  afterAll(async () => server.close());

  it('a fetch timeout is ambiguous: GatewayTimeoutError; the charge still lands, once, and retrieve finds it', async () => {
    const gateway = new HttpGateway({ baseUrl, timeoutMs: 50 });
    const request = charge();
    simulator.setLatency(300);
    try {
      const error = await gateway.charge(request).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GatewayTimeoutError);
      expect((error as Error).message).toMatch(/within 50 ms/);
    } finally {
      simulator.setLatency(0);
    }
    await waitFor('the late charge', () => simulator.chargesFor(request.idempotencyKey) === 1);
    const patient = new HttpGateway({ baseUrl });
    const found = await patient.retrieve(request.idempotencyKey);
    expect(found).toMatchObject({ status: 'succeeded', amount: 2900 });
    expect(await patient.charge(request)).toMatchObject({ chargeId: found!.chargeId });
    expect(simulator.chargesFor(request.idempotencyKey)).toBe(1);
  });

  it('a gateway that cannot be reached: GatewayUnavailableError (nothing was sent)', async () => {
    const down = buildGatewayServer(new SimulatedGateway());
    const downUrl = await listen(down);
    await down.close();
    const gateway = new HttpGateway({ baseUrl: downUrl, timeoutMs: 2_000 });
    await expect(gateway.charge(charge())).rejects.toBeInstanceOf(GatewayUnavailableError);
    await expect(gateway.retrieve('k')).rejects.toBeInstanceOf(GatewayUnavailableError);
  });

  it('an unexpected server failure on a write is ambiguous; on a read it is an outage', async () => {
    const broken: PaymentGateway = {
      charge: () => Promise.reject(new Error('disk full')),
      refund: () => Promise.reject(new Error('disk full')),
      retrieve: () => Promise.reject(new Error('disk full')),
    };
    const app = buildGatewayServer(broken);
    const url = await listen(app);
    try {
      const gateway = new HttpGateway({ baseUrl: url });
      await expect(gateway.charge(charge())).rejects.toBeInstanceOf(GatewayTimeoutError);
      await expect(gateway.refund({ idempotencyKey: 'r', chargeId: 'ch_1' })).rejects.toBeInstanceOf(
        GatewayTimeoutError,
      );
      await expect(gateway.retrieve('k')).rejects.toBeInstanceOf(GatewayUnavailableError);
    } finally {
      await app.close();
    }
  });

  it('a 404 that is not "no such charge" (a wrong base URL) is never read as "not charged"', async () => {
    const gateway = new HttpGateway({ baseUrl: `${baseUrl}/wrong-prefix` });
    await expect(gateway.retrieve('k')).rejects.toBeInstanceOf(InvalidGatewayRequestError);
  });

  it('an answer that is not the contract: ambiguous for a write', async () => {
    const fakeFetch = (async () =>
      new Response(JSON.stringify({ status: 'succeeded' }), { status: 200 })) as typeof fetch;
    const gateway = new HttpGateway({ baseUrl, fetch: fakeFetch });
    await expect(gateway.charge(charge())).rejects.toBeInstanceOf(GatewayTimeoutError);
  });

  it('with an API key: 401 problem+json without it, and the client reports nothing was done', async () => {
    const guarded = buildGatewayServer(new SimulatedGateway(), { apiKey: 'sk_test_right' });
    const url = await listen(guarded);
    try {
      const response = await fetch(`${url}/charges/k`);
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect((await fetch(`${url}/health`)).status).toBe(200);
      await expect(new HttpGateway({ baseUrl: url, apiKey: 'sk_test_wrong' }).charge(charge())).rejects.toBeInstanceOf(
        GatewayUnavailableError,
      );
      await expect(new HttpGateway({ baseUrl: url, apiKey: 'sk_test_right' }).charge(charge())).resolves.toMatchObject({
        status: 'succeeded',
      });
    } finally {
      await guarded.close();
    }
  });

  it('speaks problem+json: missing Idempotency-Key, malformed JSON, a key in the body, an unknown token', async () => {
    const post = (headers: Record<string, string>, payload: string) =>
      server.inject({
        method: 'POST',
        url: '/charges',
        headers: { 'content-type': 'application/json', ...headers },
        payload,
      });
    const { idempotencyKey, ...body } = charge();

    const missingKey = await post({}, JSON.stringify(body));
    expect(missingKey.statusCode).toBe(400);
    expect(missingKey.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(missingKey.json()).toMatchObject({
      type: 'https://tributary.dev/problems/invalid-request',
      status: 400,
      field: 'Idempotency-Key',
      instance: '/charges',
    });

    expect((await post({ 'idempotency-key': idempotencyKey }, '{"amount": ')).statusCode).toBe(400);
    expect(
      (await post({ 'idempotency-key': idempotencyKey }, JSON.stringify({ ...body, idempotencyKey }))).json(),
    ).toMatchObject({ status: 400, field: 'idempotencyKey' });

    const unknown = await post(
      { 'idempotency-key': idempotencyKey },
      JSON.stringify({ ...body, paymentMethod: 'pm_card_unknown' }),
    );
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json()).toMatchObject({
      type: 'https://tributary.dev/problems/unknown-payment-method',
      field: 'paymentMethod',
      paymentMethod: 'pm_card_unknown',
    });
    await expect(
      new HttpGateway({ baseUrl }).charge({ ...body, idempotencyKey, paymentMethod: 'pm_card_unknown' }),
    ).rejects.toBeInstanceOf(UnknownPaymentMethodError);
  });

  it('exposes the simulator controls when asked (for a gateway in another process)', async () => {
    const request = charge();
    expect(
      (
        await server.inject({
          method: 'POST',
          url: '/simulator/faults',
          payload: { count: 1, kind: 'timeout-after-charge' },
        })
      ).statusCode,
    ).toBe(204);
    await expect(new HttpGateway({ baseUrl }).charge(request)).rejects.toBeInstanceOf(GatewayTimeoutError);
    const charges = await server.inject({ method: 'GET', url: `/simulator/charges?customerId=${request.customerId}` });
    expect(charges.json()).toMatchObject([{ idempotencyKey: request.idempotencyKey, status: 'succeeded' }]);
    expect((await server.inject({ method: 'GET', url: '/simulator/counters' })).json()).toMatchObject({
      charges: expect.any(Number),
    });
    expect(
      (await server.inject({ method: 'PUT', url: '/simulator/latency', payload: { latencyMs: 0 } })).statusCode,
    ).toBe(204);
    expect(
      (await server.inject({ method: 'POST', url: '/simulator/faults', payload: { count: 1, kind: 'explode' } }))
        .statusCode,
    ).toBe(400);
    expect((await server.inject({ method: 'DELETE', url: '/simulator/faults' })).statusCode).toBe(204);
    const plain = buildGatewayServer(new SimulatedGateway());
    expect((await plain.inject({ method: 'GET', url: '/simulator/counters' })).statusCode).toBe(404);
    await plain.close();
  });

  it('startGatewayService: a durable simulator behind HTTP, migrated and listening', async () => {
    const { openPglite } = await import('../../../kernel/db/pglite.ts');
    const db = await openPglite();
    const service = await startGatewayService({
      db,
      host: '127.0.0.1',
      port: 0,
      apiKey: 'sk_test_service',
      exposeControls: true,
    });
    try {
      const gateway = new HttpGateway({ baseUrl: service.url, apiKey: 'sk_test_service' });
      const request = charge();
      const result = await gateway.charge(request);
      const { rows } = await db.query<{ charge_id: string }>(
        'select charge_id from gateway_charges where idempotency_key = $1',
        [request.idempotencyKey],
      );
      expect(rows).toEqual([{ charge_id: (result as { chargeId: string }).chargeId }]);
      expect(service.simulator.chargesFor(request.idempotencyKey)).toBe(1);
    } finally {
      await service.stop();
      await db.close();
    }
  });
});
