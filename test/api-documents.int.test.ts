import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { ADMIN_TOKEN, openPlatform } from './support/platform-fixture.ts';

describe('the HTTP API documents and access rules', async () => {
  const fixture = (await openPlatform('embedded'))!;
  afterAll(async () => fixture.close());
  const inject = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object, token?: string) =>
    fixture.platform.http.inject({ method, url, payload, headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('serves a valid OpenAPI 3.1 document with every route, and interactive docs at /docs', async () => {
    const document = (await inject('GET', '/openapi.json')).json();
    expect(document.openapi).toBe('3.1.0');
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    for (const path of [
      '/register',
      '/registrations/{id}',
      '/plans',
      '/plans/{id}',
      '/subscriptions',
      '/subscriptions/{id}',
      '/subscriptions/{id}/cancel',
      '/customers',
      '/customers/{id}',
      '/admin/clock',
      '/admin/clock/advance',
    ]) {
      expect(Object.keys(document.paths)).toContain(path);
    }
    expect(document.paths['/register'].post.requestBody.content['application/json'].schema.required).toEqual([
      'email',
      'name',
      'planId',
      'paymentMethod',
    ]);
    const docs = await inject('GET', '/docs');
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toContain('text/html');
    expect(docs.body).toContain('swagger-ui');
  });

  it('lets a customer token read and cancel its own resources only', async () => {
    const register = async () =>
      (
        await inject('POST', '/register', {
          email: `c-${uuidv7()}@example.com`,
          name: 'Cat',
          planId: 'starter-monthly',
          paymentMethod: 'pm_card_visa',
        })
      ).json() as {
        customerId: string;
        subscriptionId: string;
        customerToken: string;
        position: number;
      };
    const me = await register();
    const other = await register();
    // Reads come from the views: at the registrations' positions they show them (read-your-writes).
    const seen = `minPosition=${Math.max(me.position, other.position)}`;
    expect(
      (await inject('GET', `/customers/${me.customerId}?${seen}`, undefined, me.customerToken)).json(),
    ).toMatchObject({ customerId: me.customerId, status: 'registered', planId: 'starter-monthly' });
    expect(
      (await inject('GET', `/subscriptions/${me.subscriptionId}?${seen}`, undefined, me.customerToken)).json(),
    ).toMatchObject({ status: 'active', price: { amount: 900, currency: 'EUR' } });
    for (const url of [
      `/customers/${other.customerId}`,
      `/subscriptions/${other.subscriptionId}`,
      `/customers/${uuidv7()}`,
    ]) {
      const response = await inject('GET', url, undefined, me.customerToken);
      expect(response.statusCode, url).toBe(404);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
    expect(
      (await inject('POST', `/subscriptions/${other.subscriptionId}/cancel`, { atPeriodEnd: false }, me.customerToken))
        .statusCode,
    ).toBe(404);
    expect((await inject('GET', `/customers/${me.customerId}`)).statusCode).toBe(401);
    expect((await inject('GET', `/customers/${me.customerId}`, undefined, 'wrong')).statusCode).toBe(401);
    expect(
      (
        await inject(
          'PUT',
          `/customers/${me.customerId}/payment-method`,
          { paymentMethod: 'pm_nope' },
          me.customerToken,
        )
      ).statusCode,
    ).toBe(422);
    const cancel = await inject(
      'POST',
      `/subscriptions/${me.subscriptionId}/cancel`,
      { atPeriodEnd: true, reason: 'moving on' },
      me.customerToken,
    );
    expect(cancel.statusCode).toBe(200);
    expect(cancel.json()).toMatchObject({
      status: 'active',
      cancellation: { atPeriodEnd: true, reason: 'moving on' },
      position: expect.any(Number),
    });
    expect(
      (await inject('POST', `/subscriptions/${me.subscriptionId}/cancel`, { atPeriodEnd: 'yes' }, me.customerToken))
        .statusCode,
    ).toBe(400);
    expect((await inject('GET', `/customers/${other.customerId}?${seen}`, undefined, ADMIN_TOKEN)).statusCode).toBe(
      200,
    );
  });
});
