import { v7 as uuidv7 } from 'uuid';
import { afterAll, describe, expect, it } from 'vitest';
import { ConsumerRunner } from '../../kernel/consumers/consumer-runner.ts';
import { silentLogger } from '../../kernel/logger.ts';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';
import { ADMIN_TOKEN, openPlatform, type Mode, type PlatformFixture } from '../../../test/support/platform-fixture.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import type { AuditRecord } from './audit-chain.ts';
import { appendAuditRecord } from './audit-log.ts';
import { auditLogger } from './audit-logger.ts';

const AUDITED_TOPICS = ['customer.registered', 'payment.processed', 'subscription.created'];

function auditSuite(mode: Mode) {
  describe(`audit log on ${mode}`, async () => {
    // The real audit-logger consumer, run by the platform's consumer runner on this mode's bus.
    const fixture = (await openPlatform(mode, {}, { consumers: [auditLogger] })) as PlatformFixture;
    const skip = fixture === null;
    afterAll(async () => fixture?.close());

    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const get = (url: string, headers: Record<string, string> = admin) =>
      fixture.platform.http.inject({ method: 'GET', url, headers });
    const audit = async (query: string) => {
      const response = await get(`/audit?${query}`);
      expect(response.statusCode, response.body).toBe(200);
      return response.json() as { records: AuditRecord[]; nextCursor: string | null };
    };
    const verify = async () => (await get('/audit/verify')).json();
    const count = async () =>
      Number(
        (await fixture.platform.db.query<{ n: string }>('select count(*)::text as n from audit_records')).rows[0]!.n,
      );

    const email = `ann-${uuidv7()}@example.com`;
    let registered: { customerId: string; paymentId: string; subscriptionId: string; customerToken: string };
    let records: AuditRecord[];

    it.skipIf(skip)('records a registration: three records with summaries and no card or personal data', async () => {
      const response = await fixture.platform.http.inject({
        method: 'POST',
        url: '/register',
        payload: { email, name: 'Ann Zebedee', planId: 'pro-monthly', paymentMethod: 'pm_card_visa' },
        headers: { 'content-type': 'application/json' },
      });
      expect(response.statusCode).toBe(201);
      registered = response.json();
      const { customerId, paymentId, subscriptionId } = registered;
      records = await waitFor('three audit records', async () => {
        const page = await audit(`subject=${customerId}`);
        return page.records.length >= 3 && page.records;
      });
      expect(records.map((record) => record.eventType).sort()).toEqual([
        'CustomerRegistered',
        'PaymentProcessed',
        'SubscriptionCreated',
      ]);

      const { rows: events } = await fixture.platform.db.query<{
        event_id: string;
        type: string;
        stream_id: string;
        occurred_at: Date;
        metadata: { correlationId: string; actor: string };
      }>(
        `select event_id::text as event_id, type, stream_id, occurred_at, metadata from events where partition_key = $1 and type = any($2::text[])`,
        [customerId, ['CustomerRegistered', 'PaymentProcessed', 'SubscriptionCreated']],
      );
      for (const record of records) {
        const source = events.find((event) => event.event_id === record.eventId)!;
        expect(source, record.eventType).toBeDefined();
        expect(record).toMatchObject({
          eventType: source.type,
          subject: customerId,
          streamId: source.stream_id,
          actor: source.metadata.actor,
          correlationId: source.metadata.correlationId,
          occurredAt: new Date(source.occurred_at).toISOString(),
          hash: expect.stringMatching(/^[0-9a-f]{64}$/),
          prevHash: expect.stringMatching(/^[0-9a-f]{64}$/),
        });
      }
      const summaryOf = (type: string) => records.find((record) => record.eventType === type)!.summary;
      expect(summaryOf('CustomerRegistered')).toBe(`customer ${customerId} registered on plan pro-monthly`);
      expect(summaryOf('PaymentProcessed')).toMatch(
        new RegExp(
          `^payment \\d+\\.\\d{2} [A-Z]{3} for registration \\(period 0\\), visa ••4242, payment ${paymentId}$`,
        ),
      );
      expect(summaryOf('SubscriptionCreated')).toMatch(
        new RegExp(
          `^subscription ${subscriptionId} created on plan pro-monthly at \\d+\\.\\d{2} [A-Z]{3}/month, first period `,
        ),
      );

      // Nothing personal or secret, neither in the API nor in the table itself.
      const { rows: stored } = await fixture.platform.db.query('select * from audit_records where subject = $1', [
        customerId,
      ]);
      const { rows: payment } = await fixture.platform.db.query<{ data: { paymentMethod: { tokenId?: string } } }>(
        `select data from events where partition_key = $1 and type = 'PaymentProcessed'`,
        [customerId],
      );
      const forbidden = [
        email,
        email.split('@')[0]!,
        'Zebedee',
        'pm_card_visa',
        '4242424242424242',
        payment[0]!.data.paymentMethod.tokenId,
      ].filter(Boolean) as string[];
      for (const text of [JSON.stringify(records), JSON.stringify(stored)]) {
        for (const secret of forbidden) expect(text).not.toContain(secret);
      }
    });

    it.skipIf(skip)('filters by type (event type or topic), time, and pages with a cursor', async () => {
      const { customerId } = registered;
      expect((await audit(`subject=${customerId}&type=PaymentProcessed`)).records.map((r) => r.eventType)).toEqual([
        'PaymentProcessed',
      ]);
      expect((await audit(`subject=${customerId}&type=subscription.created`)).records.map((r) => r.eventType)).toEqual([
        'SubscriptionCreated',
      ]);
      expect((await audit(`subject=${customerId}&type=NoSuchEvent`)).records).toEqual([]);
      const first = records[0]!.occurredAt;
      const last = records.at(-1)!.occurredAt;
      const inRange = (
        await audit(
          `subject=${customerId}&from=${encodeURIComponent(first)}&to=${encodeURIComponent(new Date(Date.parse(last) + 1).toISOString())}`,
        )
      ).records;
      expect(inRange).toHaveLength(3);
      expect((await audit(`subject=${customerId}&to=${encodeURIComponent(first)}`)).records).toEqual([]);

      const pages: AuditRecord[] = [];
      let cursor: string | null = null;
      do {
        const page: { records: AuditRecord[]; nextCursor: string | null } = await audit(
          `subject=${customerId}&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        );
        pages.push(...page.records);
        cursor = page.nextCursor;
      } while (cursor);
      expect(pages).toEqual(records);
      expect(records.map((r) => r.id)).toEqual([...records.map((r) => r.id)].sort((a, b) => a - b));

      expect((await get('/audit?limit=0')).statusCode).toBe(400);
      expect((await get('/audit?from=yesterday')).statusCode).toBe(400);
    });

    it.skipIf(skip)('is for the admin only', async () => {
      for (const url of ['/audit', '/audit/verify']) {
        const anonymous = await get(url, {});
        expect(anonymous.statusCode).toBe(401);
        expect(anonymous.headers['content-type']).toContain('application/problem+json');
        expect((await get(url, { authorization: `Bearer ${registered.customerToken}` })).statusCode).toBe(401);
      }
    });

    it.skipIf(skip)('adds nothing when an event is delivered again', async () => {
      const { customerId } = registered;
      const messages = await waitFor('the seed messages', () => {
        const mine = fixture.delivered.filter((m) => m.key === customerId && AUDITED_TOPICS.includes(m.topic));
        return mine.length === 3 && mine;
      });
      const before = await count();
      const { platform } = fixture;
      const runner = new ConsumerRunner(auditLogger, {
        db: platform.db,
        catalog: platform.catalog,
        clock: platform.clock,
        log: silentLogger,
        deadLetters: platform.deadLetters,
        retry: platform.config.retry,
      });
      for (const message of messages) expect(await runner.process(message)).toBe('duplicate');
      // Even past the inbox (a replay), the chain records an event once.
      for (const record of records) {
        const event = (await platform.store.readStream(record.streamId)).find((e) => e.id === record.eventId)!;
        expect(await platform.db.transaction((tx) => appendAuditRecord(tx, event))).toBeNull();
      }
      expect(await count()).toBe(before);
      expect((await audit(`subject=${customerId}`)).records).toEqual(records);
    });

    it.skipIf(skip)('keeps one chain under concurrent writers', async () => {
      const before = await count();
      const event = (n: number): RecordedEvent => ({
        id: uuidv7(),
        type: 'CustomerRegistered',
        schemaVersion: 2,
        streamId: `customer-concurrent-${n}`,
        version: 1,
        position: 0,
        txId: '0',
        occurredAt: new Date('2026-03-01T00:00:00Z'),
        partitionKey: `concurrent-${n}`,
        data: { customerId: `concurrent-${n}`, planId: 'pro-monthly' },
        metadata: { correlationId: uuidv7(), causationId: null, actor: 'test' },
      });
      const appended = await Promise.all(
        Array.from({ length: 20 }, (_, n) => fixture.platform.db.transaction((tx) => appendAuditRecord(tx, event(n)))),
      );
      expect(await count()).toBe(before + 20);
      const ids = appended.map((record) => record!.id).sort((a, b) => a - b);
      expect(ids).toEqual(Array.from({ length: 20 }, (_, n) => before + 1 + n));
      expect(new Set(appended.map((record) => record!.prevHash)).size).toBe(20);
      expect(await verify()).toEqual({ ok: true, records: before + 20 });
    });

    it.skipIf(skip)('refuses to update or delete a record', async () => {
      const id = records[1]!.id;
      await expect(
        fixture.platform.db.query(`update audit_records set summary = 'x' where id = $1`, [id]),
      ).rejects.toThrow(/append-only/);
      await expect(fixture.platform.db.query('delete from audit_records where id = $1', [id])).rejects.toThrow(
        /append-only/,
      );
      await expect(fixture.platform.db.query('truncate audit_records')).rejects.toThrow(/append-only/);
      expect((await verify()).ok).toBe(true);
    });

    it.skipIf(skip)('names the record an attacker altered in the database', async () => {
      const target = records.find((record) => record.eventType === 'PaymentProcessed')!;
      // An attacker with DB access gets past the trigger first.
      await fixture.platform.db.exec('alter table audit_records disable trigger audit_records_no_rewrite');
      await fixture.platform.db.query(
        `update audit_records set summary = replace(summary, 'visa', 'mastercard') where id = $1`,
        [target.id],
      );
      await fixture.platform.db.exec('alter table audit_records enable trigger audit_records_no_rewrite');
      const response = await get('/audit/verify');
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({
        ok: false,
        brokenAt: target.id,
        reason: expect.stringMatching(/hash does not match/),
      });
    });
  });
}

auditSuite('embedded');
auditSuite('distributed');
