import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, describe, expect, it } from 'vitest';
import type { Sql } from '../src/kernel/db/database.ts';
import { openPglite } from '../src/kernel/db/pglite.ts';
import { createLogger } from '../src/kernel/logger.ts';
import { ADMIN_TOKEN, openPlatform, type Mode } from './support/platform-fixture.ts';
import { TEST_DATABASE_URL } from './support/postgres.ts';
import { waitFor } from './support/wait-for.ts';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** Every file under a folder, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/** The files (relative to `dir`) whose bytes contain any of the needles. */
async function filesHolding(dir: string, needles: string[]): Promise<string[]> {
  const hits: string[] = [];
  for (const file of await filesUnder(dir)) {
    const bytes = await readFile(file);
    if (needles.some((needle) => bytes.includes(Buffer.from(needle, 'utf8')))) hits.push(relative(dir, file));
  }
  return hits;
}

/**
 * The `schema.table.column`s of the given schemas (text, json, bytea and the like) whose value
 * contains any of the needles, case-insensitively for text.
 */
async function columnsHolding(sql: Sql, schemas: string[], needles: string[]): Promise<string[]> {
  const { rows: columns } = await sql.query<{ schema: string; table: string; column: string; type: string }>(
    `select c.table_schema as schema, c.table_name as table, c.column_name as column, c.data_type as type
     from information_schema.columns c
     join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
     where c.table_schema = any($1::text[]) and t.table_type = 'BASE TABLE'
       and c.data_type in ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea', 'ARRAY', 'USER-DEFINED')`,
    [schemas],
  );
  expect(columns.length).toBeGreaterThan(20);
  const hits: string[] = [];
  for (const { schema, table, column, type } of columns) {
    const value = `"${schema}"."${table}"."${column}"`;
    const matches =
      type === 'bytea'
        ? needles.map((_, i) => `position(convert_to($${i + 1}, 'UTF8') in ${value}) > 0`)
        : needles.map((_, i) => `${value}::text ilike '%' || $${i + 1} || '%'`);
    const { rows } = await sql.query<{ n: number }>(
      `select count(*)::int as n from "${schema}"."${table}" where ${matches.join(' or ')}`,
      needles,
    );
    if (Number(rows[0]!.n) > 0) hits.push(`${schema}.${table}.${column}`);
  }
  return hits;
}

function erasureSuite(mode: Mode) {
  describe(`erasure leaves nothing readable on ${mode}`, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tributary-erasure-'));
    const lines: string[] = [];
    const capture = new Writable({
      write(chunk, _encoding, callback) {
        lines.push(String(chunk));
        callback();
      },
    });
    const log = createLogger('debug', capture);
    const fixture = await openPlatform(
      mode,
      { DATA_DIR: dataDir, LOG_LEVEL: 'debug', REGISTER_WAIT_MS: '30000' },
      { consumers: undefined, log },
    );
    const skip = fixture === null;
    afterAll(async () => {
      await fixture?.close();
      await rm(dataDir, { recursive: true, force: true });
    });

    it.skipIf(skip)(
      'an erasure its process died in is finished by saga recovery: subscription cancelled, key gone, CustomerDeleted',
      async () => {
        const { platform } = fixture!;
        const registered = await platform.http.inject({
          method: 'POST',
          url: '/register',
          payload: {
            email: `crash-${uuidv7()}@example.org`,
            name: 'Carl Crash',
            planId: 'pro-monthly',
            paymentMethod: 'pm_card_visa',
          },
        });
        expect(registered.statusCode, registered.body).toBe(201);
        const { customerId, subscriptionId } = registered.json() as { customerId: string; subscriptionId: string };
        // What a process killed right after starting an erasure leaves: the saga row, its lease run out, no step done.
        const sagaId = uuidv7();
        await platform.db.query(
          `insert into sagas (id, type, status, state, lease_owner, lease_until, created_at, updated_at)
         values ($1, 'erasure', 'running', $2, 'a-dead-process', clock_timestamp() - interval '1 minute', now(), now())`,
          [sagaId, JSON.stringify({ customerId, metadata: { correlationId: sagaId, actor: 'admin' } })],
        );
        // Taken over by this pass, or by the platform's own recovery loop if an append woke it first.
        await platform.sagas.recoverOnce();
        const record = await waitFor('the erasure to finish', async () => {
          const saga = await platform.sagas.get<{ keyDeleted: boolean; cancelledSubscriptions: string[] }>(sagaId);
          return saga?.status === 'completed' && saga;
        });
        expect(record.state).toMatchObject({ keyDeleted: true, cancelledSubscriptions: [subscriptionId] });
        expect(record.steps.map((step) => step.step)).toEqual(['cancel-subscriptions', 'shred-key', 'revoke-tokens']);
        const { rows: keys } = await platform.db.query('select 1 from customer_keys where customer_id = $1', [
          customerId,
        ]);
        expect(keys).toEqual([]);
        const stream = await platform.store.readStream(`customer-${customerId}`);
        expect(stream.at(-1)).toMatchObject({ type: 'CustomerDeleted', data: { reason: 'erasure' } });
        expect((await platform.subscriptionService.get(subscriptionId)).status).toBe('cancelled');
      },
    );

    it.skipIf(skip)(
      'after a declined and a successful sign-up with emails, erasure leaves the email and the name nowhere',
      async () => {
        const { platform } = fixture!;
        const inject = (
          method: 'GET' | 'POST',
          url: string,
          payload?: object,
          headers: Record<string, string> = admin,
        ) => platform.http.inject({ method, url, payload, headers });
        const tag = uuidv7().slice(-12);
        const email = `zelda-${tag}@example.org`;
        const name = `Zelda Quixote ${tag}`;
        const traceparent = `00-${tag.padStart(32, 'a')}-00f067aa0ba902b7-01`;

        const declined = await inject(
          'POST',
          '/register',
          { email, name, planId: 'pro-monthly', paymentMethod: 'pm_card_chargeDeclined' },
          { traceparent },
        );
        expect(declined.statusCode, declined.body).toBe(402);
        const registered = await inject(
          'POST',
          '/register',
          { email, name, planId: 'pro-monthly', paymentMethod: 'pm_card_visa' },
          { traceparent },
        );
        expect(registered.statusCode, registered.body).toBe(201);
        const { customerId, position } = registered.json() as { customerId: string; position: number };

        // The emails went out, the admin reads them (opened at the edge), and the read side has the customer.
        const sent = await waitFor('the welcome email and the receipt', async () => {
          const emails = (await inject('GET', `/emails?to=${encodeURIComponent(email)}`)).json().emails as {
            id: number;
            to: string;
          }[];
          return emails.length === 2 && emails;
        });
        expect(sent.every((entry) => entry.to === email)).toBe(true);
        const message = await inject('GET', `/emails/${sent[0]!.id}/message`);
        expect(message.statusCode).toBe(200);
        expect(message.body).toContain(name);
        const shown = await inject('GET', `/customers?email=${encodeURIComponent(email)}&minPosition=${position}`);
        expect(shown.json().customers).toMatchObject([{ customerId, email, name }]);
        const invoice = await waitFor(
          'the invoice',
          async () =>
            (await inject('GET', `/invoices?customerId=${customerId}`)).json().invoices[0] as
              { id: string } | undefined,
        );
        expect((await inject('GET', `/invoices/${invoice.id}.pdf`)).statusCode).toBe(200);
        // One sign-up is followed end to end by its trace id: the request, the saga's events and the consumers' lines.
        const traceId = traceparent.split('-')[1]!;
        const { rows: traced } = await platform.db.query<{ n: number }>(
          `select count(*)::int as n from events where metadata->>'traceparent' like $1`,
          [`00-${traceId}-%`],
        );
        expect(Number(traced[0]!.n)).toBeGreaterThanOrEqual(4);
        await waitFor('consumer log lines of the trace', () =>
          lines.some((line) => line.includes(traceId) && line.includes('"consumer":"welcome-email"')),
        );

        const erased = await inject('POST', `/customers/${customerId}/erase`);
        expect(erased.statusCode, erased.body).toBe(200);
        await waitFor('the log to forget the address', async () => {
          const emails = (await inject('GET', '/emails?limit=500')).json().emails as {
            customerId: string;
            to: string | null;
          }[];
          const mine = emails.filter((entry) => entry.customerId === customerId);
          return mine.length === 2 && mine.every((entry) => entry.to === null);
        });
        expect(
          (await inject('GET', `/customers/${customerId}?minPosition=${erased.json().deletedPosition}`)).statusCode,
        ).toBe(404);
        expect((await inject('GET', `/emails/${sent[0]!.id}/message`)).statusCode).toBe(404);
        // Lookups by the address after erasure (their query strings must not reach the logs either).
        expect(
          (await inject('GET', `/customers?email=${encodeURIComponent(email)}&status=deleted`)).json().customers,
        ).toEqual([]);
        const schema =
          mode === 'distributed'
            ? (await platform.db.query<{ s: string }>('select current_schema() as s')).rows[0]!.s
            : undefined;
        await platform.stop();

        const needles = [email, name];
        // The files of the data directory: the mailbox, and (embedded) the store's pages and WAL.
        const storeDir = join(dataDir, 'store');
        const fileHits = await filesHolding(dataDir, needles);
        expect(fileHits).toEqual([]);
        expect((await filesUnder(join(dataDir, 'mailbox'))).length).toBeGreaterThanOrEqual(2);
        // The captured logs.
        expect(lines.length).toBeGreaterThan(10);
        expect(
          lines.filter((line) => needles.some((needle) => line.toLowerCase().includes(needle.toLowerCase()))),
        ).toEqual([]);

        // Every table of the platform's schemas.
        if (mode === 'embedded') {
          const db = await openPglite(storeDir);
          try {
            const { rows } = await db.query<{ name: string }>(
              `select schema_name as name from information_schema.schemata where schema_name not in ('pg_catalog', 'information_schema', 'pg_toast')`,
            );
            expect(
              await columnsHolding(
                db,
                rows.map((row) => row.name),
                needles,
              ),
            ).toEqual([]);
          } finally {
            await db.close();
          }
        } else {
          const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
          await client.connect();
          try {
            const sql: Sql = {
              query: async <Row>(text: string, params?: unknown[]) => {
                const result = await client.query(text, params);
                return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
              },
              exec: async (text: string) => void (await client.query(text)),
              onCommit: (callback) => callback(),
            };
            const { rows } = await client.query<{ name: string }>(
              'select schema_name as name from information_schema.schemata where schema_name = $1 or schema_name like $2',
              [schema, `${schema}\\_%`],
            );
            expect(rows.length).toBeGreaterThanOrEqual(2);
            expect(
              await columnsHolding(
                sql,
                rows.map((row) => row.name),
                needles,
              ),
            ).toEqual([]);
          } finally {
            await client.end();
          }
        }
      },
    );
  });
}

erasureSuite('embedded');
erasureSuite('distributed');
