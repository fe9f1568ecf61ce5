import { request as httpRequest } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { pruneAnswers } from '../src/kernel/idempotency.ts';
import { ADMIN_TOKEN, openPlatform } from './support/platform-fixture.ts';

const METRICS_TOKEN = 'test-metrics-token-0123456789';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The examples, one per class; the property-based test (http-fuzz) covers the classes. */
describe('the HTTP edge: bad input, revoked tokens, idempotent writes, headers', async () => {
  const fixture = (await openPlatform('embedded', { METRICS_TOKEN }))!;
  afterAll(async () => fixture.close());
  const http = fixture.platform.http;
  type Method = 'GET' | 'POST' | 'PUT';
  const inject = (method: Method, url: string, payload?: unknown, headers: Record<string, string> = admin) =>
    http.inject({
      method,
      url,
      ...(payload === undefined
        ? {}
        : { payload: JSON.stringify(payload), headers: { 'content-type': 'application/json', ...headers } }),
      ...(payload === undefined ? { headers } : {}),
    });
  const position = async () =>
    (await fixture.platform.db.query<{ p: string }>('select coalesce(max(position), 0) as p from events')).rows[0]!.p;
  const register = async (overrides: Record<string, unknown> = {}) => {
    const response = await inject(
      'POST',
      '/register',
      {
        email: `e-${uuidv7()}@example.com`,
        name: 'Edge',
        planId: 'pro-monthly',
        paymentMethod: 'pm_card_visa',
        ...overrides,
      },
      {},
    );
    expect(response.statusCode, response.body).toBe(201);
    return response.json() as {
      customerId: string;
      subscriptionId: string;
      customerToken: string;
      position: number;
      registrationId: string;
    };
  };
  const expectProblem = (response: Awaited<ReturnType<typeof inject>>, status: number, field?: string) => {
    expect(response.statusCode, response.body).toBe(status);
    expect(response.headers['content-type']).toContain('application/problem+json');
    if (field !== undefined) expect(response.json().field, response.body).toBe(field);
  };

  it('refuses NUL, lone surrogates and controls in body fields, path and query parameters with 400 naming the field, writing nothing', async () => {
    const before = await position();
    const base = { email: 'x@example.com', planId: 'pro-monthly', paymentMethod: 'pm_card_visa' };
    for (const name of [
      'Nul\u0000Byte',
      'bad\ud800x',
      'Ann\nBcc: evil@example.com,',
      'bel\u0007',
      'esc\u001b[31m',
      'rtl\u202egnp.exe',
      'zero\u200bwidth',
      'c1\u0085',
      '\ufeffbom',
    ]) {
      expectProblem(await inject('POST', '/register', { ...base, name }, {}), 400, 'name');
    }
    expectProblem(
      await inject('POST', '/subscriptions/x/cancel', { atPeriodEnd: true, reason: 'a\u0000' }),
      400,
      'reason',
    );
    for (const [method, url, body] of [
      ['GET', '/registrations/%00'],
      ['POST', '/subscriptions/%00/cancel', { atPeriodEnd: true }],
      ['POST', '/customers/%00/erase'],
      ['PUT', '/customers/%00/payment-method', { paymentMethod: 'pm_card_visa' }],
    ] as [Method, string, unknown?][]) {
      expectProblem(await inject(method, url, body), 400, 'id');
    }
    for (const url of [
      '/audit?subject=%00',
      '/audit?type=%00',
      '/emails?to=%00',
      '/compliance/findings?customerId=%00',
      '/customers?email=%ED%A0%80',
    ]) {
      const response = await inject('GET', url);
      expect(response.statusCode, `${url}: ${response.body}`).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
    expect(await position()).toBe(before);
  });

  it('normalises emails: trimmed and lower-cased', async () => {
    const email = `  Mixed-${uuidv7()}@Example.COM `;
    const created = await register({ email });
    const listed = await inject(
      'GET',
      `/customers?email=${encodeURIComponent(email.trim().toLowerCase())}&minPosition=${created.position}`,
    );
    expect(listed.json().customers.map((c: { email: string }) => c.email)).toEqual([email.trim().toLowerCase()]);
  });

  it('refuses tampered, far-date and garbage cursors and year-zero months with 400', async () => {
    const far = b64({ issuedAt: '+275760-09-13T00:00:00.000Z', number: 'INV-2026-000001' });
    const nul = b64({ issuedAt: '2026-01-01T00:00:00.000Z', number: '\u0000' });
    for (const url of [
      `/invoices?cursor=${far}`,
      `/invoices?cursor=${nul}`,
      '/invoices?cursor=garbage',
      `/customers?cursor=${b64({ t: '0000-01-01T00:00:00Z', i: uuidv7() })}`,
      `/subscriptions?cursor=${b64({ t: '2026-01-01T00:00:00Z', i: '\u0000' })}`,
      `/subscriptions?cursor=${b64({ t: '9999-99-99T00:00:00Z', i: uuidv7() })}`,
    ]) {
      expectProblem(await inject('GET', url), 400, 'cursor');
    }
    expectProblem(await inject('GET', '/analytics/cohorts?from=0000-01'), 400, 'from');
    expectProblem(
      await inject('GET', '/analytics/timeseries?metric=signups&from=0000-01-01&to=2026-01-01'),
      400,
      'from',
    );
    expectProblem(await inject('GET', '/ledger/entries?from=0000-01-01T00:00:00Z'), 400, 'from');
  });

  it('answers 414, 415 and body errors as problem+json, naming the field', async () => {
    expectProblem(
      await http.inject({
        method: 'POST',
        url: '/register',
        payload: 'hello',
        headers: { 'content-type': 'text/plain' },
      }),
      415,
      'Content-Type',
    );
    expectProblem(await inject('GET', `/registrations/${'a'.repeat(500)}`), 414);
    expectProblem(await inject('GET', `/plans?${'q'.repeat(9000)}=1`), 414);
    expectProblem(await inject('POST', '/register', [], {}), 400, 'body');
    expectProblem(await inject('POST', '/register', null, {}), 400, 'body');
    expectProblem(
      await http.inject({
        method: 'POST',
        url: '/register',
        payload: '{"email":',
        headers: { 'content-type': 'application/json' },
      }),
      400,
      'body',
    );
    expectProblem(
      await inject(
        'POST',
        '/register',
        { email: 'a@example.com', name: 'A', planId: 'pro-monthly', paymentMethod: 'pm_card_visa', admin: true },
        {},
      ),
      400,
      'admin',
    );
    expectProblem(await inject('POST', '/admin/clock/advance', {}), 400, 'to');
  });

  it('answers 431 (headers too large) as problem+json on the socket', async () => {
    const address = await http.listen({ port: 3301, host: '127.0.0.1' });
    try {
      const answer = await new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
        const request = httpRequest(`${address}/plans`, { headers: { 'x-big': 'b'.repeat(20_000) } }, (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () =>
            resolve({ status: response.statusCode!, type: String(response.headers['content-type']), body }),
          );
        });
        request.on('error', reject);
        request.end();
      });
      expect(answer.status).toBe(431);
      expect(answer.type).toContain('application/problem+json');
      expect(JSON.parse(answer.body)).toMatchObject({ status: 431 });
    } finally {
      await http.server.close();
    }
  });

  it('refuses unknown query parameters on every route', async () => {
    for (const url of [
      '/plans?x=1',
      '/plans/pro-monthly?x=1',
      '/customers?x=1',
      '/analytics/summary?x=1',
      '/audit?x=1',
      '/invoices?x=1',
      '/emails?x=1',
      '/ledger/accounts?x=1',
      '/compliance/findings?x=1',
      '/admin/dlq?x=1',
      '/analytics/churn-model?x=1',
      '/health?x=1',
    ]) {
      expectProblem(await inject('GET', url), 400, 'x');
    }
  });

  it('guards /metrics and labels every answer', async () => {
    expectProblem(await inject('GET', '/metrics', undefined, {}), 401);
    expect((await inject('GET', '/metrics')).statusCode).toBe(200);
    expect((await inject('GET', '/metrics', undefined, { authorization: `Bearer ${METRICS_TOKEN}` })).statusCode).toBe(
      200,
    );
    const docs = await inject('GET', '/docs/', undefined, {});
    expect(docs.headers['content-security-policy']).toContain("script-src 'self'");
    expect(docs.headers['x-content-type-options']).toBe('nosniff');
    const me = await register();
    const read = await inject('GET', `/customers/${me.customerId}?minPosition=${me.position}`, undefined, {
      authorization: `Bearer ${me.customerToken}`,
    });
    expect(read.statusCode).toBe(200);
    expect(read.headers['cache-control']).toBe('no-store');
    expect(read.headers['x-content-type-options']).toBe('nosniff');
  });

  it('defaults the time series to the last 30 days, by day', async () => {
    const response = await inject('GET', '/analytics/timeseries?metric=signups');
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body.interval).toBe('day');
    expect(body.series[0].points).toHaveLength(30);
    expect(body.to).toBe(fixture.platform.clock.now().toISOString().slice(0, 10));
  });

  it('revokes a customer token on every route once the customer is erased', async () => {
    const me = await register();
    const mine = { authorization: `Bearer ${me.customerToken}` };
    const routes: [Method, string, unknown?][] = [
      ['GET', `/subscriptions/${me.subscriptionId}`],
      ['GET', '/subscriptions'],
      ['GET', `/customers/${me.customerId}`],
      ['GET', `/registrations/${me.registrationId}`],
      ['GET', `/invoices?customerId=${me.customerId}`],
      ['GET', '/invoices/INV-2026-000001.pdf'],
      ['POST', `/subscriptions/${me.subscriptionId}/cancel`, { atPeriodEnd: true }],
      ['PUT', `/customers/${me.customerId}/payment-method`, { paymentMethod: 'pm_card_visa' }],
    ];
    expect((await inject('GET', `/registrations/${me.registrationId}`, undefined, mine)).statusCode).toBe(200);
    expect((await inject('POST', `/customers/${me.customerId}/erase`)).statusCode).toBe(200);
    for (const [method, url, body] of routes) expectProblem(await inject(method, url, body, mine), 401);
  });

  it('honours Idempotency-Key on every write: the same answer again, 422 for another body, for a day', async () => {
    const me = await register();
    const key = { ...admin, 'idempotency-key': uuidv7() };
    const first = await inject('POST', `/subscriptions/${me.subscriptionId}/cancel`, { atPeriodEnd: true }, key);
    expect(first.statusCode).toBe(200);
    const before = await position();
    const again = await inject('POST', `/subscriptions/${me.subscriptionId}/cancel`, { atPeriodEnd: true }, key);
    expect(again.statusCode).toBe(200);
    expect(again.body).toBe(first.body);
    expectProblem(
      await inject('POST', `/subscriptions/${me.subscriptionId}/cancel`, { atPeriodEnd: false }, key),
      422,
      'Idempotency-Key',
    );
    expect(await position()).toBe(before);
    expect((await inject('GET', `/subscriptions/${me.subscriptionId}?minPosition=${before}`)).json()).toMatchObject({
      status: 'active',
      cancellation: { atPeriodEnd: true },
    });

    const card = { ...admin, 'idempotency-key': uuidv7() };
    const set = await inject(
      'PUT',
      `/customers/${me.customerId}/payment-method`,
      { paymentMethod: 'pm_card_mastercard' },
      card,
    );
    expect(set.statusCode).toBe(200);
    expect(
      (await inject('PUT', `/customers/${me.customerId}/payment-method`, { paymentMethod: 'pm_card_mastercard' }, card))
        .body,
    ).toBe(set.body);
    expectProblem(
      await inject('PUT', `/customers/${me.customerId}/payment-method`, { paymentMethod: 'pm_card_visa' }, card),
      422,
      'Idempotency-Key',
    );
    // A day later the answer is forgotten: the key runs again with another body, and the hourly pruning deletes what expired.
    await fixture.platform.db.query(
      `update http_idempotency set created_at = created_at - interval '25 hours' where key = $1`,
      [card['idempotency-key']],
    );
    const later = await inject(
      'PUT',
      `/customers/${me.customerId}/payment-method`,
      { paymentMethod: 'pm_card_visa' },
      card,
    );
    expect(later.statusCode, later.body).toBe(200);
    expect(later.headers['idempotent-replayed']).toBeUndefined();
    await fixture.platform.db.query(
      `update http_idempotency set created_at = created_at - interval '25 hours' where key = $1`,
      [key['idempotency-key']],
    );
    expect(await pruneAnswers(fixture.platform.db)).toBeGreaterThanOrEqual(1);
    const { rows } = await fixture.platform.db.query('select 1 from http_idempotency where key = $1', [
      key['idempotency-key'],
    ]);
    expect(rows).toEqual([]);

    // Every write declares the header in the API document.
    const document = (await inject('GET', '/openapi.json')).json() as {
      paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>>;
    };
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (method === 'get') continue;
        expect(
          operation.parameters?.some((p) => p.in === 'header' && p.name === 'idempotency-key'),
          `${method} ${path}`,
        ).toBe(true);
      }
    }
  });
});

describe('the test clock', async () => {
  const fixture = (await openPlatform('embedded', { CLOCK_ADVANCE_WAIT_MS: '0' }))!;
  afterAll(async () => fixture.close());
  const inject = (method: 'GET' | 'POST', url: string, payload?: object) =>
    fixture.platform.http.inject({ method, url, payload, headers: admin });

  it('moves with the wall clock unless frozen, and bounds `to` to ten years', async () => {
    expect((await inject('POST', '/admin/clock/unfreeze')).json()).toMatchObject({ frozen: false, advancing: null });
    const a = (await inject('GET', '/admin/clock')).json();
    expect(a).toEqual({ now: expect.any(String), offsetMs: expect.any(Number), frozen: false, advancing: null });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(Date.parse((await inject('GET', '/admin/clock')).json().now)).toBeGreaterThan(Date.parse(a.now));
    const frozen = (await inject('POST', '/admin/clock/freeze')).json();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect((await inject('GET', '/admin/clock')).json().now).toBe(frozen.now);
    expect((await inject('POST', '/admin/clock/advance', { to: '9999-12-31T23:59:59Z' })).statusCode).toBe(400);
    expect((await inject('POST', '/admin/clock/advance', { days: 3661 })).statusCode).toBe(400);
  });

  it('answers 202 with a Location for an advance that runs on, and 409 to a second one meanwhile', async () => {
    for (let i = 0; i < 3; i++) {
      const response = await inject('POST', '/register', {
        email: `k-${uuidv7()}@example.com`,
        name: 'Kay',
        planId: 'pro-monthly',
        paymentMethod: 'pm_card_visa',
      });
      expect(response.statusCode).toBe(201);
    }
    const started = await inject('POST', '/admin/clock/advance', { days: 400 });
    expect(started.statusCode, started.body).toBe(202);
    const advance = started.json();
    expect(advance).toMatchObject({
      id: expect.any(String),
      status: 'running',
      done: expect.any(Number),
      left: expect.any(Number),
    });
    expect(started.headers.location).toBe(`/admin/clock/advances/${advance.id}`);
    const second = await inject('POST', '/admin/clock/advance', { days: 1 });
    expect(second.statusCode).toBe(409);
    expect(second.headers['content-type']).toContain('application/problem+json');
    expect((await inject('GET', '/admin/clock')).json().advancing).toBe(advance.id);
    let state = advance;
    for (let polls = 0; state.status === 'running' && polls < 600; polls++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      state = (await inject('GET', started.headers.location as string)).json();
    }
    expect(state).toMatchObject({ status: 'completed', left: 0, now: expect.any(String) });
    expect(state.done).toBeGreaterThanOrEqual(3 * 13);
  });

  it("keeps a customer's token valid by real time, whatever the test clock does", async () => {
    const response = await inject('POST', '/register', {
      email: `t-${uuidv7()}@example.com`,
      name: 'Tess',
      planId: 'pro-monthly',
      paymentMethod: 'pm_card_visa',
    });
    expect(response.statusCode, response.body).toBe(201);
    const { subscriptionId, customerToken, position } = response.json() as {
      subscriptionId: string;
      customerToken: string;
      position: number;
    };
    const advanced = await inject('POST', '/admin/clock/advance', { days: 90 });
    expect([200, 202]).toContain(advanced.statusCode);
    // Read your write: the view has applied the registration (it may lag the 201 otherwise).
    const read = await fixture.platform.http.inject({
      method: 'GET',
      url: `/subscriptions/${subscriptionId}?minPosition=${position}`,
      headers: { authorization: `Bearer ${customerToken}` },
    });
    expect(read.statusCode, read.body).toBe(200);
  });
});
