import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { ADMIN_TOKEN, openPlatform } from './support/platform-fixture.ts';

/**
 * Property: whatever a client sends to any operation of /openapi.json (path, query, headers, body,
 * including NUL, lone surrogates, control, bidi and zero-width characters, huge and negative
 * numbers, far dates, random and tampered cursors, wrong content types), the answer is a 2xx or a
 * 4xx problem+json (a 400 naming the field), and a 4xx leaves the event store as it was.
 */

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  schema?: { type?: string };
}
interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  bodyFields: string[];
}

const NASTY = [
  '\u0000',
  'a\u0000b',
  'bad\ud800x',
  '\udc00',
  'Ann\r\nBcc: evil@example.com',
  '\u0007',
  '\u001b[31m',
  '\u202egnp',
  'zero\u200bwidth',
  '\u0085',
  '\ufeff',
  '',
  ' ',
  '-1',
  '0',
  '1e308',
  '9'.repeat(40),
  '-9007199254740993',
  'NaN',
  'null',
  'true',
  '[]',
  '{}',
  '%00',
  '../../etc/passwd',
  "' or 1=1 --",
  '<script>alert(1)</script>',
  'x'.repeat(300),
  '0000-01',
  '0000-01-01',
  '+275760-09-13T00:00:00.000Z',
  '9999-12-31T23:59:59Z',
  '1969-12-31T23:59:59Z',
  '2026-02-30',
  '2026-13',
  'INV-2026-000001',
  'pm_card_visa',
  'pro-monthly',
  'ann@example.com',
  ' ANN@Example.com ',
];
const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const CURSORS = [
  b64({ t: '2026-01-01T00:00:00.000Z', i: '0190c7a8-0000-7000-8000-000000000001' }),
  b64({ t: '+275760-09-13T00:00:00.000Z', i: 'x' }),
  b64({ issuedAt: '+275760-09-13T00:00:00.000Z', number: '\u0000' }),
  b64({ issuedAt: '2026-01-01T00:00:00Z', number: 'INV-2026-000001' }),
  b64({ t: '0000-01-01T00:00:00Z', i: '\ud800' }),
  b64('not json'),
  '12345',
  '999999999999999',
];

const text = fc.oneof(
  fc.constantFrom(...NASTY),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom(...CURSORS),
  fc.base64String({ maxLength: 40 }).map((s) => s.replaceAll('=', '')),
  fc.integer().map(String),
  fc.double({ noNaN: false }).map(String),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);
const jsonValue: fc.Arbitrary<unknown> = fc.oneof(
  text,
  fc.integer(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e308, -1, 0, 0.5, 3661, 87_841),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
);

/** Values an honest client would send, by field name: most requests carry them, so the nasty ones reach deep. */
const PLAUSIBLE: Record<string, fc.Arbitrary<unknown>> = {
  email: fc.uuid().map((id) => `p-${id}@example.com`),
  name: fc.constantFrom('Pat', 'Ann Example', 'Zoë'),
  planId: fc.constantFrom('pro-monthly', 'pro-yearly', 'starter-monthly', 'nope'),
  paymentMethod: fc.constantFrom('pm_card_visa', 'pm_card_mastercard', 'pm_card_chargeDeclined', 'pm_unknown'),
  atPeriodEnd: fc.boolean(),
  reason: fc.constantFrom('too expensive', 'moving'),
  days: fc.integer({ min: 0, max: 40 }),
  hours: fc.integer({ min: 0, max: 48 }),
  to: fc
    .date({ min: new Date('2026-01-01'), max: new Date('2040-01-01'), noInvalidDate: true })
    .map((d) => d.toISOString()),
  from: fc.constantFrom('2026-01-01', '2026-01', '2026-01-01T00:00:00Z'),
  limit: fc.integer({ min: -5, max: 2000 }),
  status: fc.constantFrom('active', 'pending', 'registered', 'deleted', 'sent', 'passed'),
  metric: fc.constantFrom('signups', 'cancellations', 'mrr', 'revenue'),
  interval: fc.constantFrom('day', 'week', 'month'),
  minPosition: fc.integer({ min: 0, max: 2 ** 53 }),
  asOf: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
};
const valueFor = (name: string, nasty: fc.Arbitrary<unknown>) =>
  PLAUSIBLE[name] ? fc.oneof({ arbitrary: PLAUSIBLE[name], weight: 3 }, { arbitrary: nasty, weight: 1 }) : nasty;
const sometimes = <T>(arbitrary: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, { arbitrary, weight: 1 });

/** Percent-encodes a string as a URL does, lone surrogates included (as bytes no UTF-8 decoder accepts). */
const encode = (value: string) => {
  try {
    return encodeURIComponent(value);
  } catch {
    return value.replace(/[\ud800-\udfff]/g, '%ED%A0%80').replace(/[^%\w-]/g, (c) => encodeURIComponent(c));
  }
};

function operationsOf(document: {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: Parameter[];
        requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
      }
    >
  >;
}): Operation[] {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      method: method.toUpperCase(),
      path,
      parameters: operation.parameters ?? [],
      bodyFields: Object.keys(operation.requestBody?.content?.['application/json']?.schema?.properties ?? {}),
    })),
  );
}

describe('every operation of the OpenAPI document, under generated requests', async () => {
  const fixture = (await openPlatform('embedded', { READ_WAIT_MS: '0', CLOCK_ADVANCE_WAIT_MS: '2000' }))!;
  afterAll(async () => fixture.close());
  const http = fixture.platform.http;
  const position = async () =>
    (await fixture.platform.db.query<{ p: string }>('select coalesce(max(position), 0) as p from events')).rows[0]!.p;

  it('answers 2xx or a 4xx problem+json, names the field of a 400, and writes nothing on a 4xx', async () => {
    const registered = await http.inject({
      method: 'POST',
      url: '/register',
      payload: {
        email: `f-${uuidv7()}@example.com`,
        name: 'Fuzz',
        planId: 'pro-monthly',
        paymentMethod: 'pm_card_visa',
      },
    });
    expect(registered.statusCode).toBe(201);
    const me = registered.json() as {
      customerId: string;
      subscriptionId: string;
      registrationId: string;
      customerToken: string;
    };
    const known = [
      me.customerId,
      me.subscriptionId,
      me.registrationId,
      'pro-monthly',
      'customers',
      'welcome-email',
      '1000',
      uuidv7(),
    ];
    const document = (await http.inject({ method: 'GET', url: '/openapi.json' })).json();
    // The live stream (Server-Sent Events) never ends by design: an injected request would wait on it.
    const operations = operationsOf(document).filter((operation) => !operation.path.endsWith('/stream'));
    expect(operations.length).toBeGreaterThan(25);

    const auth = fc.constantFrom<Record<string, string>>(
      { authorization: `Bearer ${ADMIN_TOKEN}` },
      { authorization: `Bearer ${ADMIN_TOKEN}` },
      { authorization: `Bearer ${ADMIN_TOKEN}` },
      { authorization: `Bearer ${me.customerToken}` },
      { authorization: 'Bearer ct_eyJzdWIiOiJ4IiwiZXhwIjo5OTk5OTk5OTk5fQ.forged' },
      {},
    );
    const request = (operation: Operation) =>
      fc.record({
        params: fc.tuple(
          ...operation.parameters.filter((p) => p.in === 'path').map(() => fc.oneof(fc.constantFrom(...known), text)),
          fc.constant(''),
        ),
        query: fc.tuple(
          fc
            .subarray(operation.parameters.filter((p) => p.in === 'query'))
            .chain((chosen) =>
              fc.tuple(
                ...chosen.map((p) => valueFor(p.name, text).map((value) => [p.name, String(value)] as const)),
                fc.constant(['', ''] as const),
              ),
            ),
          sometimes(fc.constantFrom('unknown', 'x', '__proto__')),
        ),
        headers: fc.record({
          auth,
          contentType: fc.oneof(
            { arbitrary: fc.constant('application/json'), weight: 6 },
            fc.constantFrom(
              'text/plain',
              'application/x-www-form-urlencoded',
              'application/json; charset=latin1',
              undefined,
            ),
          ),
          key: sometimes(fc.oneof(fc.uuid(), text)),
          minPosition: sometimes(text),
        }),
        body: fc.oneof(
          {
            arbitrary: fc.record(
              Object.fromEntries(operation.bodyFields.map((field) => [field, valueFor(field, jsonValue)])),
              { requiredKeys: [] },
            ),
            weight: 6,
          },
          fc
            .record(Object.fromEntries(operation.bodyFields.map((field) => [field, jsonValue])), { requiredKeys: [] })
            .map((body) => ({ ...body, extra: 1 })),
          jsonValue,
          fc.constant(undefined),
        ),
      });

    let requests = 0;
    const statuses = new Map<number, number>();
    for (const operation of operations) {
      await fc.assert(
        fc.asyncProperty(request(operation), async ({ params, query, headers, body }) => {
          let index = 0;
          const path = operation.path.replace(/\{[^}]+\}/g, () => encode(String(params[index++] ?? 'x')));
          const [chosen, unknown] = query;
          // /admin/verify waits up to 10 s by default for the reactions to settle the charges; this platform runs none.
          const pairs =
            operation.path === '/admin/verify' && !chosen.some(([name]) => name === 'settleMs')
              ? [...chosen, ['settleMs', '0'] as const]
              : chosen;
          const search = [...pairs.filter(([name]) => name !== ''), ...(unknown ? [[unknown, '1'] as const] : [])]
            .map(([name, value]) => `${encode(name)}=${encode(value)}`)
            .join('&');
          const header: Record<string, string> = { ...headers.auth };
          if (headers.key !== undefined) header['idempotency-key'] = headers.key.replace(/[^\x20-\x7e]/g, '?');
          if (headers.minPosition !== undefined)
            header['x-min-position'] = headers.minPosition.replace(/[^\x20-\x7e]/g, '?');
          const withBody = operation.method !== 'GET' && body !== undefined;
          if (withBody && headers.contentType) header['content-type'] = headers.contentType;
          const before = await position();
          const response = await http.inject({
            method: operation.method as 'GET',
            url: search ? `${path}?${search}` : path,
            headers: header,
            ...(withBody ? { payload: JSON.stringify(body) } : {}),
          });
          requests++;
          statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
          const what = `${operation.method} ${path}?${search} ${JSON.stringify(body)} → ${response.statusCode} ${response.body.slice(0, 300)}`;
          const viewBehind = response.statusCode === 503 && response.json().type?.endsWith('/view-behind');
          expect(response.statusCode < 500 || viewBehind, what).toBe(true);
          expect(response.headers['x-content-type-options'], what).toBe('nosniff');
          if (response.statusCode >= 400) {
            expect(response.headers['content-type'], what).toContain('application/problem+json');
            // A declined card (402) is an outcome, not bad input: its saga compensates, in the store.
            if (response.statusCode !== 402)
              expect(await position(), `${what}: wrote on a ${response.statusCode}`).toBe(before);
          }
          if (response.statusCode === 400)
            expect(typeof response.json().field === 'string' && response.json().field.length > 0, what).toBe(true);
        }),
        { numRuns: Number(process.env.FUZZ_RUNS ?? 40), seed: Number(process.env.FUZZ_SEED ?? 20261203) },
      );
    }
    console.log(
      `http-fuzz: ${requests} requests over ${operations.length} operations; statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
  }, 300_000);
});
