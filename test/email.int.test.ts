import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, describe, expect, it } from 'vitest';
import { customerDecider } from '../src/domain/customer/decider.ts';
import { addMonths } from '../src/domain/subscription/period.ts';
import type { BusMessage } from '../src/kernel/bus/message.ts';
import type { ConsumerDefinition } from '../src/kernel/consumers/consumer.ts';
import { ConsumerRunner } from '../src/kernel/consumers/consumer-runner.ts';
import { PermanentError } from '../src/kernel/consumers/permanent-error.ts';
import { replayDeadLetters } from '../src/kernel/consumers/replay-dead-letters.ts';
import { silentLogger } from '../src/kernel/logger.ts';
import { handlerFailures } from '../src/kernel/metrics.ts';
import { emailModule } from '../src/reactions/email/index.ts';
import { formatMoney, formatPeriod } from '../src/reactions/email/format.ts';
import { findInvoiceNumber } from '../src/reactions/email/invoice-lookup.ts';
import { mailboxDir } from '../src/reactions/email/mailbox-mailer.ts';
import { SmtpMailer } from '../src/reactions/email/smtp-mailer.ts';
import { handleCommand } from '../src/services/command-handler.ts';
import { ADMIN_TOKEN, openPlatform, type Mode, type PlatformFixture } from './support/platform-fixture.ts';
import { parseEmail, SmtpSink } from './support/smtp-sink.ts';
import { waitFor } from './support/wait-for.ts';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
/** Fast retries: a transient failure is retried within milliseconds. */
const RETRY_ENV = {
  CONSUMER_MAX_ATTEMPTS: '10',
  CONSUMER_RETRY_BASE_MS: '20',
  CONSUMER_RETRY_MAX_MS: '200',
  SMTP_TIMEOUT_MS: '5000',
};

interface Notification {
  id: number;
  eventId: string;
  type: string;
  customerId: string;
  to: string | null;
  subject: string | null;
  messageId: string;
  status: string;
  reason: string | null;
  transport: string | null;
  delivery: string | null;
}

/** What the email tests do to a running platform, over HTTP where the platform has an API. */
function driver(fixture: PlatformFixture) {
  const { platform } = fixture;
  const inject = (method: 'GET' | 'POST', url: string, payload?: object, headers: Record<string, string> = admin) =>
    platform.http.inject({ method, url, payload, headers });
  const runners = new Map<string, ConsumerRunner>();
  const emails = async (query: string): Promise<Notification[]> => {
    const response = await inject('GET', `/emails?${query}`);
    expect(response.statusCode, response.body).toBe(200);
    return (response.json() as { emails: Notification[] }).emails;
  };
  return {
    inject,
    async register(email: string, name = 'Ann Example', planId = 'pro-monthly') {
      const response = await inject('POST', '/register', { email, name, planId, paymentMethod: 'pm_card_visa' }, {});
      expect(response.statusCode, response.body).toBe(201);
      return response.json() as { customerId: string; subscriptionId: string; paymentId: string };
    },
    /** The log entries once `count` are committed (the SMTP server may see an email just before its commit). */
    async logged(query: string, count: number): Promise<Notification[]> {
      return waitFor(`${count} log entries for ${query}`, async () => {
        const found = await emails(query);
        return found.length === count && found;
      });
    },
    emails,
    async eventId(streamId: string, type: string): Promise<string> {
      const { rows } = await platform.db.query<{ event_id: string }>(
        'select event_id from events where stream_id = $1 and type = $2 order by version limit 1',
        [streamId, type],
      );
      return rows[0]!.event_id;
    },
    /** The message the bus delivered for an event (the fixture's watcher sees every topic). */
    message: (eventId: string): Promise<BusMessage> =>
      waitFor(`the bus message of ${eventId}`, () =>
        fixture.delivered.find((message) => message.headers.ce_id === eventId),
      ),
    /** A runner of the real consumer, in the same group (same inbox) as the platform's. */
    runner(name: string): ConsumerRunner {
      let runner = runners.get(name);
      if (!runner) {
        const deps = {
          config: platform.config,
          plans: platform.plans,
          db: platform.db,
          store: platform.store,
          catalog: platform.catalog,
          clock: platform.clock,
          log: silentLogger,
        };
        const consumer = emailModule
          .consumers(deps)
          .find((definition: ConsumerDefinition) => definition.name === name)!;
        runner = new ConsumerRunner(consumer, {
          db: platform.db,
          catalog: platform.catalog,
          clock: platform.clock,
          log: silentLogger,
          deadLetters: platform.deadLetters,
          retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
        });
        runners.set(name, runner);
      }
      return runner;
    },
  };
}

const failuresOf = async (consumer: string) =>
  (await handlerFailures.get()).values.find((value) => value.labels.consumer === consumer)?.value ?? 0;

function smtpSuite(mode: Mode) {
  describe(`email over SMTP on ${mode}`, async () => {
    const sink = await SmtpSink.start();
    const fixture = await openPlatform(mode, { SMTP_URL: sink.url, ...RETRY_ENV }, { consumers: undefined });
    const skip = fixture === null;
    afterAll(async () => {
      await fixture?.close();
      await sink.stop();
    });
    const run = skip ? undefined! : driver(fixture);

    it.skipIf(skip)(
      'sends a welcome email and a receipt to a registered customer: recipient, subject, bodies and Message-ID',
      async () => {
        const address = `ann-${uuidv7()}@example.com`;
        const name = `Ann <O'Brien> & Co`;
        const customer = await run.register(address, name);
        const start = fixture!.platform.clock.now().toISOString();
        await waitFor('two emails', () => sink.to(address).length === 2);
        const welcomeId = await run.eventId(`customer-${customer.customerId}`, 'CustomerRegistered');
        const paymentId = await run.eventId(`payment-${customer.paymentId}`, 'PaymentProcessed');

        const [welcome] = sink.withMessageId(`<${welcomeId}@tributary>`);
        expect(welcome?.envelope.to).toEqual([address]);
        expect(welcome!.headers.to).toContain(address);
        expect(welcome!.headers.from).toContain('no-reply@tributary.local');
        expect(welcome!.subject).toBe('Welcome to Tributary');
        expect(welcome!.text).toContain(`Hello ${name},`);
        expect(welcome!.text).toContain('Your Pro subscription is active');
        expect(welcome!.html).toContain('Hello Ann &lt;O&#39;Brien&gt; &amp; Co,');
        expect(welcome!.html).not.toContain(name);

        const [receipt] = sink.withMessageId(`<${paymentId}@tributary>`);
        const amount = formatMoney(2900, 'EUR');
        expect(amount).toBe('€29.00');
        expect(receipt?.envelope.to).toEqual([address]);
        expect(receipt!.subject).toBe(`Your Tributary receipt: ${amount} for Pro`);
        expect(receipt!.text).toMatch(/Amount paid:\s+€29\.00/);
        expect(receipt!.text).toMatch(/Plan:\s+Pro/);
        expect(receipt!.text).toContain(formatPeriod({ start, end: addMonths(start, 1) }));
        expect(receipt!.text).toContain('Visa ending in 4242');
        expect(receipt!.text).toContain(customer.paymentId);
        // The invoice generator is another consumer group: when it issued the invoice first, the receipt names it.
        const invoice = /Invoice:\s+(\S+)/.exec(receipt!.text)?.[1];
        if (invoice) expect(invoice).toMatch(/^INV-\d{4}-\d{6}$/);
        expect(await findInvoiceNumber(fixture!.platform.db, uuidv7())).toBeNull(); // none issued: the receipt goes without
        expect(receipt!.html).toContain('€29.00');

        const log = await run.logged(`to=${encodeURIComponent(address.toUpperCase())}`, 2);
        expect(log.map((entry) => entry.type).sort()).toEqual(['payment-receipt', 'welcome-email']);
        for (const entry of log) {
          expect(entry).toMatchObject({
            customerId: customer.customerId,
            to: address,
            status: 'sent',
            transport: 'smtp',
            delivery: expect.stringMatching(/^250 /),
          });
        }
        expect(
          (await run.emails(`to=${encodeURIComponent(address)}&type=welcome-email`)).map((entry) => entry.messageId),
        ).toEqual([`<${welcomeId}@tributary>`]);
        expect((await run.inject('GET', '/emails', undefined, {})).statusCode).toBe(401);
        expect((await run.inject('GET', '/emails?type=spam')).statusCode).toBe(400);
        const openApi = (await run.inject('GET', '/openapi.json')).json();
        expect(openApi.paths['/emails'].get.parameters.map((parameter: { name: string }) => parameter.name)).toEqual(
          expect.arrayContaining(['to', 'type', 'limit']),
        );
      },
    );

    it.skipIf(skip)(
      'sends exactly one email per event when the event is delivered again, even past the inbox',
      async () => {
        const address = `dup-${uuidv7()}@example.com`;
        const customer = await run.register(address);
        await run.logged(`to=${encodeURIComponent(address)}`, 2);
        expect(sink.to(address)).toHaveLength(2);
        for (const [consumer, streamId, type] of [
          ['welcome-email', `customer-${customer.customerId}`, 'CustomerRegistered'],
          ['payment-receipt', `payment-${customer.paymentId}`, 'PaymentProcessed'],
        ] as const) {
          const eventId = await run.eventId(streamId, type);
          const message = await run.message(eventId);
          // Redelivered (a Kafka rebalance, a restarted embedded reader): the inbox knows it.
          expect(await run.runner(consumer).process(message)).toBe('duplicate');
          // Even applied again past the inbox and the group's position (a replay, its inbox record
          // gone), the notification log does not send twice.
          await fixture!.platform.db.query('delete from inbox where consumer = $1 and event_id = $2', [
            consumer,
            eventId,
          ]);
          expect(await run.runner(consumer).replay(message)).toBe(true);
          expect(sink.withMessageId(`<${eventId}@tributary>`)).toHaveLength(1);
          expect(sink.attempts.get(`<${eventId}@tributary>`)).toBe(1);
        }
        expect(await run.emails(`to=${encodeURIComponent(address)}`)).toHaveLength(2);
      },
    );

    it.skipIf(skip)('retries a transient failure (451, connection refused) and delivers once', async () => {
      const flaky = `flaky-${uuidv7()}@example.com`;
      const customer = await run.register(flaky);
      await waitFor('two emails after a 451 each', () => sink.to(flaky).length === 2);
      const welcomeId = await run.eventId(`customer-${customer.customerId}`, 'CustomerRegistered');
      expect(sink.attempts.get(`<${welcomeId}@tributary>`)).toBe(2);
      expect(sink.withMessageId(`<${welcomeId}@tributary>`)).toHaveLength(1);

      const failuresBefore = await failuresOf('welcome-email');
      await sink.stop();
      const address = `down-${uuidv7()}@example.com`;
      try {
        await run.register(address);
        await waitFor('a refused connection', async () => (await failuresOf('welcome-email')) > failuresBefore);
      } finally {
        await sink.listen();
      }
      await waitFor('two emails once the server is back', () => sink.to(address).length === 2);
      expect(await fixture!.platform.deadLetters.list({ consumer: 'welcome-email' })).toEqual([]);
    });

    it.skipIf(skip)(
      'dead-letters a permanent failure (550) at once; a replay after the fix sends it once',
      async () => {
        const address = `bounce-${uuidv7()}@example.com`;
        const customer = await run.register(address);
        const welcomeId = await run.eventId(`customer-${customer.customerId}`, 'CustomerRegistered');
        const paymentId = await run.eventId(`payment-${customer.paymentId}`, 'PaymentProcessed');
        const letters = await waitFor('both emails dead-lettered', async () => {
          const all = [
            ...(await fixture!.platform.deadLetters.list({ consumer: 'welcome-email' })),
            ...(await fixture!.platform.deadLetters.list({ consumer: 'payment-receipt' })),
          ];
          const ours = all.filter((letter) => letter.eventId === welcomeId || letter.eventId === paymentId);
          return ours.length === 2 && ours;
        });
        for (const letter of letters) {
          expect(letter).toMatchObject({ attempts: 1, poison: false });
          expect(letter.error).toContain('550');
        }
        expect(sink.to(address)).toEqual([]);
        expect(await run.emails(`to=${encodeURIComponent(address)}`)).toEqual([]); // rolled back with the failure

        sink.forgive(address);
        const report = await replayDeadLetters(run.runner('welcome-email'), fixture!.platform.deadLetters);
        expect(report).toMatchObject({ replayed: 1, failed: [] });
        expect(sink.withMessageId(`<${welcomeId}@tributary>`)).toHaveLength(1);
        expect((await replayDeadLetters(run.runner('welcome-email'), fixture!.platform.deadLetters)).replayed).toBe(0);
        expect(await run.runner('welcome-email').process(await run.message(welcomeId))).toBe('duplicate');
        expect(sink.withMessageId(`<${welcomeId}@tributary>`)).toHaveLength(1);
      },
    );

    it.skipIf(skip)(
      'sends an erased customer nothing more: its renewal receipt and notice are suppressed',
      async () => {
        const kept = `kept-${uuidv7()}@example.com`;
        const erased = `erased-${uuidv7()}@example.com`;
        const keptCustomer = await run.register(kept, 'Kay');
        const erasedCustomer = await run.register(erased, 'Eve');
        await waitFor('the registration emails', () => sink.to(kept).length === 2 && sink.to(erased).length === 2);
        await handleCommand(fixture!.platform.store, customerDecider, `customer-${erasedCustomer.customerId}`, {
          type: 'DeleteCustomer',
          data: {
            customerId: erasedCustomer.customerId,
            reason: 'erasure',
            deletedAt: fixture!.platform.clock.now().toISOString(),
          },
        });

        const now = (await run.inject('GET', '/admin/clock')).json().now as string;
        const advanced = await run.inject('POST', '/admin/clock/advance', {
          to: new Date(Date.parse(addMonths(now, 1)) + 3_600_000).toISOString(),
        });
        expect(advanced.statusCode, advanced.body).toBe(200);

        await waitFor('the renewal emails of the kept customer', () => sink.to(kept).length === 4);
        const renewal = sink.to(kept).find((email) => email.subject === 'Your Pro subscription has renewed')!;
        expect(renewal.text).toMatch(/New period:\s+/);
        expect(renewal.text).toContain(formatPeriod({ start: addMonths(now, 1), end: addMonths(now, 2) }));
        expect(renewal.text).toMatch(/Amount:\s+€29\.00/);
        const renewalReceipt = sink
          .to(kept)
          .find(
            (email) =>
              email.subject.startsWith('Your Tributary receipt') &&
              email.text.includes(formatPeriod({ start: addMonths(now, 1), end: addMonths(now, 2) })),
          );
        expect(renewalReceipt).toBeDefined();
        expect(keptCustomer.customerId).not.toBe(erasedCustomer.customerId);

        const suppressed = await waitFor('the suppressed renewal emails', async () => {
          const { rows } = await fixture!.platform.db.query<{
            type: string;
            status: string;
            reason: string;
            to_address: string | null;
          }>(
            "select type, status, reason, to_address from notifications where customer_id = $1 and status = 'suppressed' order by type",
            [erasedCustomer.customerId],
          );
          return rows.length === 2 && rows;
        });
        expect(suppressed).toEqual([
          { type: 'payment-receipt', status: 'suppressed', reason: 'customer_deleted', to_address: null },
          { type: 'renewal-notice', status: 'suppressed', reason: 'customer_deleted', to_address: null },
        ]);
        expect(sink.to(erased)).toHaveLength(2); // the registration's, sent before the erasure; nothing since
        expect(
          (await run.emails('status=suppressed')).filter((entry) => entry.customerId === erasedCustomer.customerId),
        ).toHaveLength(2);
      },
    );
  });
}

function mailboxSuite(mode: Mode) {
  describe(`email to the local mailbox on ${mode}`, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tributary-mailbox-'));
    const fixture = await openPlatform(mode, { DATA_DIR: dataDir, ...RETRY_ENV }, { consumers: undefined });
    const skip = fixture === null;
    afterAll(async () => {
      await fixture?.close();
      await rm(dataDir, { recursive: true, force: true });
    });

    it.skipIf(skip)(
      'keeps each email sealed in a file named after its Message-ID, shows it opened to the admin until erasure',
      async () => {
        const run = driver(fixture!);
        const address = `box-${uuidv7()}@example.com`;
        const customer = await run.register(address, 'Bo Boxer', 'pro-monthly-usd');
        const welcomeId = await run.eventId(`customer-${customer.customerId}`, 'CustomerRegistered');
        const paymentId = await run.eventId(`payment-${customer.paymentId}`, 'PaymentProcessed');
        const files = [`${welcomeId}@tributary.eml.sealed`, `${paymentId}@tributary.eml.sealed`];
        await waitFor('two mailbox files', async () => {
          const present = await readdir(mailboxDir(dataDir)).catch((): string[] => []);
          return files.every((file) => present.includes(file));
        });
        for (const file of files) {
          const raw = await readFile(join(mailboxDir(dataDir), file), 'utf8');
          expect(raw).not.toContain(address);
          expect(raw).not.toContain('Bo Boxer');
        }

        const log = await run.logged(`to=${encodeURIComponent(address)}`, 2);
        expect(log.map((entry) => [entry.type, entry.transport, entry.delivery]).sort()).toEqual([
          ['payment-receipt', 'mailbox', files[1]],
          ['welcome-email', 'mailbox', files[0]],
        ]);
        const byType = new Map(log.map((entry) => [entry.type, entry]));
        const message = (type: string) => run.inject('GET', `/emails/${byType.get(type)!.id}/message`);
        const opened = await message('welcome-email');
        expect(opened.statusCode, opened.body).toBe(200);
        expect(opened.headers['content-type']).toMatch(/^message\/rfc822/);
        expect(opened.body).toContain('\r\n');
        const welcome = parseEmail(opened.body);
        expect(welcome.headers.to).toContain(address);
        expect(welcome.messageId).toBe(`<${welcomeId}@tributary>`);
        expect(welcome.subject).toBe('Welcome to Tributary');
        expect(welcome.text).toContain('Hello Bo Boxer,');
        const receipt = parseEmail((await message('payment-receipt')).body);
        expect(receipt.subject).toBe('Your Tributary receipt: $32.00 for Pro (US dollars)');
        expect(receipt.html).toContain('$32.00');
        expect(
          (await run.inject('GET', `/emails/${byType.get('welcome-email')!.id}/message`, undefined, {})).statusCode,
        ).toBe(401);

        const erased = await run.inject('POST', `/customers/${customer.customerId}/erase`);
        expect(erased.statusCode, erased.body).toBe(200);
        expect((await message('welcome-email')).statusCode).toBe(404);
        // The key is gone at once (no address can be opened); the forgetter consumer then drops the lookup digest.
        await waitFor(
          'the log to forget the address',
          async () => (await run.emails(`to=${encodeURIComponent(address)}`)).length === 0,
        );
        const forgotten = (await run.emails('limit=500')).filter(
          (entry) => entry.customerId === customer.customerId && entry.status === 'sent',
        );
        expect(forgotten).toHaveLength(2);
        expect(forgotten.every((entry) => entry.to === null)).toBe(true);
      },
    );
  });
}

describe('the SMTP mailer', () => {
  const email = (to: string) => ({
    messageId: `<${uuidv7()}@tributary>`,
    to: { name: 'T', address: to },
    subject: 's',
    text: 't',
    html: '<p>t</p>',
    date: new Date(),
    headers: {},
  });

  it('tells a permanent refusal (PermanentError) from a transient one', async () => {
    const sink = await SmtpSink.start();
    const mailer = new SmtpMailer({ url: sink.url, from: 'test@tributary.local', timeoutMs: 2_000 });
    try {
      expect(await mailer.send(email('ok@example.com'))).toMatchObject({
        transport: 'smtp',
        detail: expect.stringMatching(/^250 /),
      });
      await expect(mailer.send(email('bounce-x@example.com'))).rejects.toBeInstanceOf(PermanentError);
      const flaky = mailer.send(email('flaky-x@example.com'));
      await expect(flaky).rejects.toThrow(/451/);
      await expect(flaky).rejects.not.toBeInstanceOf(PermanentError);
      await sink.stop();
      const refused = mailer.send(email('ok@example.com'));
      await expect(refused).rejects.toThrow(/ECONNREFUSED/);
      await expect(refused).rejects.not.toBeInstanceOf(PermanentError);
    } finally {
      await mailer.close();
      await sink.stop();
    }
  });
});

smtpSuite('embedded');
smtpSuite('distributed');
mailboxSuite('embedded');
mailboxSuite('distributed');
