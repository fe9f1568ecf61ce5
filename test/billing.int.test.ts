import { inflateSync } from 'node:zlib';
import { PDFDocument } from 'pdf-lib';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, describe, expect, it } from 'vitest';
import type {
  PaymentProcessedData,
  PaymentRefundedData,
  Period,
  SubscriptionCreatedData,
  SubscriptionRenewedData,
} from '../src/domain/events/index.ts';
import { paymentDecider } from '../src/domain/payment/decider.ts';
import { addMonths } from '../src/domain/subscription/period.ts';
import { ConsumerRunner } from '../src/kernel/consumers/consumer-runner.ts';
import { silentLogger } from '../src/kernel/logger.ts';
import { billingConsumers } from '../src/reactions/billing/index.ts';
import { invoiceFor } from '../src/reactions/billing/invoice-generator.ts';
import { issueInvoice } from '../src/reactions/billing/invoices.ts';
import type { ReactionDeps } from '../src/reactions/reaction-module.ts';
import { handleCommand } from '../src/services/command-handler.ts';
import type { RegistrationFaults } from '../src/services/registration/registration-saga.ts';
import { paymentStream } from '../src/services/streams.ts';
import { ADMIN_TOKEN, openPlatform, type Mode, type PlatformFixture } from './support/platform-fixture.ts';
import { waitFor } from './support/wait-for.ts';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const DAY = 86_400_000;
const ACCOUNT = { cash: '1000', receivable: '1100', deferred: '2100', tax: '2200', revenue: '4000', refunds: '4900' };
/** Fast retries, so a rejected posting reaches the dead letters in well under a second. */
const ENV = { CONSUMER_RETRY_BASE_MS: '10', CONSUMER_RETRY_MAX_MS: '50' };

interface Registered {
  customerId: string;
  subscriptionId: string;
  paymentId: string;
  customerToken: string;
}

interface InvoiceJson {
  id: string;
  number: string;
  paymentId: string;
  customerId: string;
  purpose: string;
  lines: { period: Period; amount: number; description: string }[];
  currency: string;
  subtotal: number;
  tax: number;
  total: number;
  status: string;
  paymentReference: string;
}

interface TrialBalanceJson {
  asOf: string;
  currencies: {
    currency: string;
    accounts: { code: string; balance: number; debits: number; credits: number }[];
    totalDebits: number;
    totalCredits: number;
    balanced: boolean;
  }[];
}

interface EntryJson {
  kind: string;
  part: number;
  paymentId: string;
  effectiveAt: string;
  lines: { account: string; amount: number }[];
}

/** The text a PDF shows: its content streams inflated, and the strings of their text operators (Tj, TJ) joined. */
function pdfText(pdf: Buffer): string {
  const decode = (token: string) =>
    token.startsWith('<')
      ? Buffer.from(token.slice(1, -1), 'hex').toString('latin1')
      : token.slice(1, -1).replace(/\\([()\\])/g, '$1');
  const lines: string[] = [];
  // Up to "\nendstream" only: a compressed stream's last byte can be "\r", and inflate ignores one left over.
  for (const match of pdf.toString('latin1').matchAll(/stream\r?\n([\s\S]*?)\nendstream/g)) {
    let content = match[1]!;
    try {
      content = inflateSync(Buffer.from(content, 'latin1')).toString('latin1');
    } catch {
      // not compressed
    }
    for (const operator of content.matchAll(
      /\[((?:<[0-9a-fA-F]*>|\((?:\\.|[^\\)])*\)|[\s\d.-])*)\]\s*TJ|(<[0-9a-fA-F]*>|\((?:\\.|[^\\)])*\))\s*Tj/g,
    )) {
      const strings =
        operator[1] !== undefined
          ? [...operator[1].matchAll(/<[0-9a-fA-F]*>|\((?:\\.|[^\\)])*\)/g)].map((m) => m[0])
          : [operator[2]!];
      lines.push(strings.map(decode).join(''));
    }
  }
  return lines.join('\n');
}

function billingSuite(mode: Mode) {
  describe(`billing on ${mode}`, async () => {
    const faults: RegistrationFaults = {};
    // `consumers: undefined` runs the platform's real reaction consumers (the fixture's default is none).
    const fixture = (await openPlatform(mode, ENV, { consumers: undefined, faults })) as PlatformFixture;
    const skip = fixture === null;
    afterAll(async () => fixture?.close());

    const inject = (
      method: 'GET' | 'POST' | 'PUT',
      url: string,
      payload?: object,
      headers: Record<string, string> = admin,
    ) => fixture.platform.http.inject({ method, url, payload, headers });
    const register = async (planId: string, expected = 201): Promise<Registered> => {
      const response = await inject(
        'POST',
        '/register',
        { email: `b-${uuidv7()}@example.com`, name: 'Bea Billing', planId, paymentMethod: 'pm_card_visa' },
        {},
      );
      expect(response.statusCode, response.body).toBe(expected);
      if (expected === 201) return response.json() as Registered;
      const registration = await fixture.platform.registrations.get(response.json().registrationId);
      return { ...registration!.state, customerToken: '' };
    };
    const advanceTo = async (to: string) =>
      expect((await inject('POST', '/admin/clock/advance', { to })).statusCode).toBe(200);
    const now = async () => (await inject('GET', '/admin/clock')).json().now as string;
    const events = async <T>(type: string) =>
      (
        await fixture.platform.db.query<{ event_id: string; data: T; occurred_at: Date }>(
          'select event_id, data, occurred_at from events where type = $1 order by position',
          [type],
        )
      ).rows;
    const count = async (sql: string) => Number((await fixture.platform.db.query<{ n: number }>(sql)).rows[0]!.n);
    /** Waits until both billing consumers have caught up with every charge and refund in the store. */
    const settle = async () => {
      await waitFor(
        'billing to catch up with the store',
        async () => {
          const charges = await count(`select count(*)::int8 as n from events where type = 'PaymentProcessed'`);
          const refunds = await count(`select count(*)::int8 as n from events where type = 'PaymentRefunded'`);
          const invoices = await count(`select count(*)::int8 as n from invoices where year < 2099`);
          const settled = await count(`select count(*)::int8 as n from journal_entries where kind = 'settlement'`);
          const refunded = await count(`select count(*)::int8 as n from journal_entries where kind = 'refund'`);
          return invoices === charges && settled === charges && refunded === refunds;
        },
        60_000,
      );
    };
    const trialBalance = async (asOf?: string) => {
      const response = await inject('GET', `/ledger/trial-balance${asOf ? `?asOf=${encodeURIComponent(asOf)}` : ''}`);
      expect(response.statusCode, response.body).toBe(200);
      return response.json() as TrialBalanceJson;
    };
    const balanceOf = (tb: TrialBalanceJson, currency: string, code: string) =>
      tb.currencies.find((c) => c.currency === currency)?.accounts.find((a) => a.code === code)?.balance ?? 0;
    const invoicesInDb = async () =>
      (
        await fixture.platform.db.query<{ year: number; sequence: number; payment_id: string; number: string }>(
          'select year, sequence, payment_id, number from invoices order by year, sequence',
        )
      ).rows;
    const expectNoGaps = (rows: { year: number; sequence: number }[]) => {
      const byYear = new Map<number, number[]>();
      for (const row of rows) byYear.set(row.year, [...(byYear.get(row.year) ?? []), row.sequence]);
      for (const [year, sequences] of byYear)
        expect(sequences, `invoice numbers of ${year}`).toEqual(sequences.map((_, index) => index + 1));
      return byYear;
    };
    const deps = (): ReactionDeps => {
      const { config, plans, db, store, catalog, clock, log } = fixture.platform;
      return { config, plans, db, store, catalog, clock, log };
    };

    it.skipIf(skip)(
      'takes invoice numbers without gaps when many transactions issue at once, and gives one back on rollback',
      async () => {
        const { db, clock } = fixture.platform;
        const payments = Array.from({ length: 30 }, () => uuidv7());
        const customerId = uuidv7();
        const invoice = (paymentId: string) =>
          invoiceFor(
            {
              paymentId,
              customerId,
              subscriptionId: null,
              amount: 2900,
              currency: 'EUR',
              purpose: 'registration',
              periodIndex: 0,
              paymentMethod: { brand: 'visa', last4: '4242' },
              gatewayReference: `ch_${paymentId}`,
              processedAt: '2099-03-01T00:00:00.000Z',
              taxRateBps: 0,
              taxAmount: 0,
            },
            {
              planId: 'pro-monthly',
              planName: 'Pro',
              periodIndex: 0,
              period: { start: '2099-03-01T00:00:00.000Z', end: '2099-04-01T00:00:00.000Z' },
            },
            uuidv7(),
          );
        // Every payment issued three times at once (as a redelivery and the charge's two events would),
        // and every fifth transaction rolled back after taking its number.
        const attempts = payments.flatMap((paymentId, index) =>
          [0, 1, 2].map((copy) => ({ paymentId, rollback: copy === 0 && index % 5 === 0 })),
        );
        const results = await Promise.allSettled(
          attempts.map(({ paymentId, rollback }) =>
            db.transaction(async (tx) => {
              const issued = await issueInvoice(tx, invoice(paymentId), clock.now());
              if (rollback) throw new Error('rolled back on purpose');
              return issued;
            }),
          ),
        );
        expect(
          results
            .filter((result) => result.status === 'rejected')
            .every((result) => String((result as PromiseRejectedResult).reason).includes('on purpose')),
        ).toBe(true);
        const rows = (await invoicesInDb()).filter((row) => row.year === 2099);
        expect(rows.map((row) => row.payment_id).sort()).toEqual([...payments].sort());
        expectNoGaps(rows);
        expect(rows[0]!.number).toBe('INV-2099-000001');
      },
    );

    it.skipIf(skip)(
      'issues exactly one invoice per charge, whichever event comes first and however often they are delivered',
      async () => {
        const customers = await Promise.all(
          Array.from({ length: 8 }, (_, index) => register(index % 4 === 0 ? 'pro-monthly-usd' : 'pro-monthly')),
        );
        await advanceTo(new Date(Date.parse(addMonths(await now(), 1)) + 3_600_000).toISOString()); // one renewal each: its payment.processed and subscription.renewed
        await settle();
        const charges = await events<PaymentProcessedData>('PaymentProcessed');
        for (const customer of customers) {
          const own = (await inject('GET', `/invoices?customerId=${customer.customerId}`)).json()
            .invoices as InvoiceJson[];
          expect(own.map((invoice) => invoice.purpose)).toEqual(['registration', 'renewal']);
        }

        // Redeliver every message the invoice generator got: to its own group (the inbox drops them),
        // and to three more groups running the same handler at once (the handler finds each charge invoiced).
        const before = await invoicesInDb();
        // Each message once (a batch that fell back to one by one was seen twice by the watcher).
        const billingMessages = () => {
          const seen = new Set<string>();
          return fixture.delivered.filter((message) => {
            const key = `${message.topic}:${message.headers.ce_id ?? message.value}`;
            return (
              (message.topic === 'payment.processed' || message.topic === 'subscription.renewed') &&
              !seen.has(key) &&
              !!seen.add(key)
            );
          });
        };
        // The watcher follows every topic (the registrations' history too): it may be behind billing.
        const messages = await waitFor('the watcher to see every charge and renewal', () => {
          const found = billingMessages();
          return found.length >= charges.length + customers.length ? found : undefined;
        });
        const generator = billingConsumers(deps()).find((consumer) => consumer.name === 'invoice-generator')!;
        const { db, catalog, clock, deadLetters, config } = fixture.platform;
        const runnerFor = (name: string) =>
          new ConsumerRunner(
            { ...generator, name },
            { db, catalog, clock, log: silentLogger, deadLetters, retry: config.retry },
          );
        const runners = [
          'invoice-generator',
          'invoice-generator-copy-1',
          'invoice-generator-copy-2',
          'invoice-generator-copy-3',
        ].map(runnerFor);
        const outcomes = await Promise.all(
          runners.map(async (runner) => Promise.all(messages.map((message) => runner.process(message)))),
        );
        expect(new Set(outcomes[0])).toEqual(new Set(['duplicate']));
        for (const copy of outcomes.slice(1)) expect(new Set(copy)).toEqual(new Set(['processed']));
        expect(await invoicesInDb()).toEqual(before);

        const rows = before.filter((row) => row.year < 2099);
        expect(rows.map((row) => row.payment_id).sort()).toEqual(charges.map((charge) => charge.data.paymentId).sort());
        expectNoGaps(rows);
      },
    );

    it.skipIf(skip)(
      'renders an invoice as a PDF, and shows invoices to their customer and the admin only',
      async () => {
        const mine = await register('pro-monthly');
        const theirs = await register('starter-monthly');
        await settle();
        const list = await inject('GET', '/invoices', undefined, bearer(mine.customerToken));
        expect(list.statusCode).toBe(200);
        const [invoice] = list.json().invoices as InvoiceJson[];
        expect(list.json().invoices).toHaveLength(1);
        expect(invoice).toMatchObject({
          paymentId: mine.paymentId,
          customerId: mine.customerId,
          status: 'paid',
          currency: 'EUR',
          subtotal: 2900,
          tax: 0,
          total: 2900,
          purpose: 'registration',
        });
        expect(invoice!.number).toMatch(/^INV-\d{4}-\d{6}$/);
        expect(invoice!.lines).toEqual([expect.objectContaining({ description: 'Pro subscription', amount: 2900 })]);
        expect(invoice!.paymentReference).toMatch(/\S/);

        for (const key of [invoice!.id, invoice!.number]) {
          const json = await inject('GET', `/invoices/${key}`, undefined, bearer(mine.customerToken));
          expect(json.statusCode).toBe(200);
          expect(json.json()).toEqual(invoice);
        }
        const pdf = await inject('GET', `/invoices/${invoice!.id}.pdf`, undefined, bearer(mine.customerToken));
        expect(pdf.statusCode).toBe(200);
        expect(pdf.headers['content-type']).toBe('application/pdf');
        expect(pdf.headers['content-disposition']).toContain(`${invoice!.number}.pdf`);
        expect(pdf.rawPayload.subarray(0, 5).toString('latin1')).toBe('%PDF-');
        const parsed = await PDFDocument.load(pdf.rawPayload);
        expect(parsed.getPageCount()).toBe(1);
        expect(parsed.getTitle()).toBe(invoice!.number);
        const text = pdfText(pdf.rawPayload);
        expect(text).toContain(invoice!.number);
        expect(text).toContain('EUR 29.00');
        expect(text).toContain('PAID');
        // Bill to: the name and email, opened at the edge (invoices keep none); "Erased customer" after erasure.
        expect(text).toContain('Bea Billing');
        expect(text).toMatch(/b-[0-9a-f-]+@example\.com/);
        expect(pdf.headers['cache-control']).toBe('no-store');

        const other = (await inject('GET', `/invoices?customerId=${theirs.customerId}`)).json()
          .invoices[0] as InvoiceJson;
        for (const url of [
          `/invoices/${other.id}`,
          `/invoices/${other.number}.pdf`,
          `/invoices?customerId=${theirs.customerId}`,
          `/invoices/${uuidv7()}`,
        ]) {
          const response = await inject('GET', url, undefined, bearer(mine.customerToken));
          expect(response.statusCode, url).toBe(404);
          expect(response.headers['content-type']).toContain('application/problem+json');
        }
        expect((await inject('GET', `/invoices/${other.id}`, undefined, {})).statusCode).toBe(401);
        expect((await inject('GET', '/invoices', undefined, {})).statusCode).toBe(401);
        expect((await inject('GET', `/invoices/${other.id}.pdf`)).statusCode).toBe(200);
        expect((await inject('POST', `/customers/${theirs.customerId}/erase`)).statusCode).toBe(200);
        const erasedPdf = await inject('GET', `/invoices/${other.id}.pdf`);
        expect(erasedPdf.statusCode, erasedPdf.body.slice(0, 500)).toBe(200);
        const erasedText = pdfText(erasedPdf.rawPayload);
        expect(erasedText).toContain('Erased customer');
        expect(erasedText).not.toContain('Bea Billing');
        expect(erasedText).not.toContain('@example.com');
        expect((await inject('GET', '/ledger/trial-balance', undefined, bearer(mine.customerToken))).statusCode).toBe(
          401,
        );
        const document = (await inject('GET', '/openapi.json')).json();
        for (const path of [
          '/invoices',
          '/invoices/{id}',
          '/invoices/{id}.pdf',
          '/ledger/entries',
          '/ledger/trial-balance',
          '/ledger/accounts/{code}',
        ]) {
          expect(Object.keys(document.paths)).toContain(path);
        }
      },
    );

    it.skipIf(skip)(
      'keeps the books through a year of registrations, renewals, cancellations and refunds',
      async () => {
        const start = await now();
        const at = (months: number, days = 0) =>
          new Date(Date.parse(addMonths(start, months)) + days * DAY + 3_600_000).toISOString();

        const steady = await register('pro-monthly');
        const yearly = await register('pro-yearly');
        const endsAtPeriodEnd = await register('starter-monthly');
        const cancelledNow = await register('pro-monthly-usd');
        const failing = await register('pro-monthly');
        const usd = await register('pro-monthly-usd');
        faults.failSubscriptionStep = true;
        const refunded = [await register('pro-monthly', 503), await register('pro-monthly-usd', 503)];
        faults.failSubscriptionStep = false;

        await advanceTo(at(1, 14));
        expect(
          (await inject('POST', `/subscriptions/${endsAtPeriodEnd.subscriptionId}/cancel`, { atPeriodEnd: true }))
            .statusCode,
        ).toBe(200);
        expect(
          (await inject('POST', `/subscriptions/${cancelledNow.subscriptionId}/cancel`, { atPeriodEnd: false }))
            .statusCode,
        ).toBe(200);
        expect(
          (
            await inject('PUT', `/customers/${failing.customerId}/payment-method`, {
              paymentMethod: 'pm_card_chargeDeclinedInsufficientFunds',
            })
          ).statusCode,
        ).toBe(200);
        // Support refunds half of the steady customer's first renewal, half-way through its period.
        const renewal = (await events<SubscriptionRenewedData>('SubscriptionRenewed')).find(
          (event) => event.data.subscriptionId === steady.subscriptionId,
        )!.data;
        const refundedAt = await now();
        await handleCommand(
          fixture.platform.store,
          paymentDecider,
          paymentStream(renewal.paymentId),
          {
            type: 'RefundPayment',
            data: {
              paymentId: renewal.paymentId,
              amount: 1450,
              reason: 'goodwill',
              gatewayReference: `re_${uuidv7()}`,
              refundedAt,
            },
          },
          { metadata: { correlationId: uuidv7(), causationId: null, actor: 'test:support' } },
        );
        await settle();
        const midYear = await now();

        await advanceTo(at(12, 2));
        await settle();
        const end = await now();

        // What the store says happened, per currency.
        const charges = await events<PaymentProcessedData>('PaymentProcessed');
        const refunds = await events<PaymentRefundedData>('PaymentRefunded');
        const sum = (amounts: { currency: string; amount: number }[], currency: string) =>
          amounts.filter((a) => a.currency === currency).reduce((total, a) => total + a.amount, 0);
        const charged = (currency: string, by = end) =>
          sum(
            charges.filter((c) => c.data.processedAt <= by).map((c) => c.data),
            currency,
          );
        const refundedSum = (currency: string, by = end) =>
          sum(
            refunds.filter((r) => r.data.refundedAt <= by).map((r) => r.data),
            currency,
          );
        expect(refunds.map((r) => r.data.paymentId).sort()).toEqual(
          [renewal.paymentId, ...refunded.map((r) => r.paymentId)].sort(),
        );
        expect(charges.filter((c) => c.data.customerId === steady.customerId)).toHaveLength(13);

        const tb = await trialBalance();
        expect(tb.currencies.map((c) => c.currency).sort()).toEqual(['EUR', 'USD']);
        for (const { currency, accounts, totalDebits, totalCredits, balanced } of tb.currencies) {
          expect(balanced, currency).toBe(true);
          expect(totalDebits).toBe(totalCredits);
          expect(
            accounts.reduce((total, account) => total + account.balance, 0),
            `${currency} trial balance`,
          ).toBe(0);
          expect(balanceOf(tb, currency, ACCOUNT.cash), `${currency} cash`).toBe(
            charged(currency) - refundedSum(currency),
          );
          expect(balanceOf(tb, currency, ACCOUNT.receivable)).toBe(0);
          expect(balanceOf(tb, currency, ACCOUNT.tax)).toBe(0);
          // Deferred and Revenue are credit balances; Refunds (contra revenue) a debit one.
          const deferred = -balanceOf(tb, currency, ACCOUNT.deferred);
          const revenue = -balanceOf(tb, currency, ACCOUNT.revenue) - balanceOf(tb, currency, ACCOUNT.refunds);
          expect(deferred + revenue, `${currency} deferred + revenue`).toBe(charged(currency) - refundedSum(currency));
          expect(revenue).toBeGreaterThan(0);
        }
        expect(balanceOf(tb, 'EUR', ACCOUNT.refunds)).toBeGreaterThan(0);

        // Deferred revenue is the unearned part of the periods still running, day by day: each
        // charge's service period (a registration's is its subscription's first period).
        const created = await events<SubscriptionCreatedData>('SubscriptionCreated');
        const renewed = await events<SubscriptionRenewedData>('SubscriptionRenewed');
        const periodOf = (charge: PaymentProcessedData): Period | undefined =>
          charge.subscriptionId
            ? renewed.find((r) => r.data.paymentId === charge.paymentId)?.data.period
            : created.find((c) => c.data.customerId === charge.customerId)?.data.currentPeriod;
        for (const currency of ['EUR', 'USD']) {
          let unearned = 0;
          for (const { data: charge } of charges.filter((c) => c.data.currency === currency)) {
            if (refunds.some((r) => r.data.paymentId === charge.paymentId)) continue;
            const period = periodOf(charge)!;
            expect(period, charge.paymentId).toBeDefined();
            const days = Math.ceil((Date.parse(period.end) - Date.parse(period.start)) / DAY);
            const ended =
              Date.parse(end) >= Date.parse(period.end)
                ? days
                : Math.max(0, Math.floor((Date.parse(end) - Date.parse(period.start)) / DAY));
            unearned += charge.amount - Math.floor((charge.amount * ended) / days);
          }
          expect(-balanceOf(tb, currency, ACCOUNT.deferred), `${currency} deferred`).toBe(unearned);
        }

        // The partial refund: what was earned by then went to Refunds, the rest out of Deferred Revenue.
        const refundEntries = (await inject('GET', `/ledger/entries?paymentId=${renewal.paymentId}&kind=refund`)).json()
          .entries as EntryJson[];
        expect(refundEntries).toHaveLength(1);
        const lines = Object.fromEntries(refundEntries[0]!.lines.map((line) => [line.account, line.amount]));
        const days = Math.ceil((Date.parse(renewal.period.end) - Date.parse(renewal.period.start)) / DAY);
        const elapsed = Math.floor((Date.parse(refundedAt) - Date.parse(renewal.period.start)) / DAY);
        expect(lines[ACCOUNT.cash]).toBe(-1450);
        expect(lines[ACCOUNT.deferred]! + lines[ACCOUNT.refunds]!).toBe(1450);
        expect(Math.abs(lines[ACCOUNT.refunds]! - (1450 * elapsed) / days)).toBeLessThanOrEqual(1);
        // ... and the rest of that period was recognised on the re-anchored line, to nothing left.
        const paymentEntries = (await inject('GET', `/ledger/entries?paymentId=${renewal.paymentId}&limit=1000`)).json()
          .entries as EntryJson[];
        const recognised = paymentEntries
          .filter((e) => e.kind === 'recognition')
          .reduce((total, e) => total - e.lines.find((l) => l.account === ACCOUNT.revenue)!.amount, 0);
        expect(recognised + lines[ACCOUNT.deferred]!).toBe(2900);
        expect(new Set(paymentEntries.filter((e) => e.kind === 'recognition').map((e) => e.part)).size).toBe(days);
        for (const entry of paymentEntries) expect(entry.lines.reduce((total, line) => total + line.amount, 0)).toBe(0);

        // The refunded registrations: everything back out of Deferred Revenue, nothing recognised.
        for (const registration of refunded) {
          const entries = (await inject('GET', `/ledger/entries?paymentId=${registration.paymentId}`)).json()
            .entries as EntryJson[];
          expect(entries.map((e) => e.kind).sort()).toEqual(['charge', 'refund', 'settlement']);
        }

        // As of half-way through: still balanced, with the cash of what had happened by then.
        const past = await trialBalance(midYear);
        for (const { currency, balanced } of past.currencies) {
          expect(balanced).toBe(true);
          expect(balanceOf(past, currency, ACCOUNT.cash)).toBe(
            charged(currency, midYear) - refundedSum(currency, midYear),
          );
        }
        const cash = (await inject('GET', `/ledger/accounts/${ACCOUNT.cash}`)).json();
        expect(cash).toMatchObject({ code: ACCOUNT.cash, name: 'Cash', normalBalance: 'debit' });
        expect(cash.balances.find((b: { currency: string }) => b.currency === 'USD').balance).toBe(
          charged('USD') - refundedSum('USD'),
        );
        expect((await inject('GET', '/ledger/accounts/9999')).statusCode).toBe(404);

        // Invoices: one per charge, for the amount charged, for the period the subscription renewed;
        // numbered per year without gaps, across the new year.
        const invoices = (await invoicesInDb()).filter((row) => row.year < 2099);
        expect(invoices.map((row) => row.payment_id).sort()).toEqual(charges.map((c) => c.data.paymentId).sort());
        expect(expectNoGaps(invoices).size).toBeGreaterThanOrEqual(2);
        // (the customer's own token expired with the year: customer tokens last 30 days)
        const steadyInvoices = (await inject('GET', `/invoices?customerId=${steady.customerId}`)).json()
          .invoices as InvoiceJson[];
        expect(steadyInvoices).toHaveLength(13);
        for (const invoice of steadyInvoices.filter((i) => i.purpose === 'renewal')) {
          const { data } = renewed.find((r) => r.data.paymentId === invoice.paymentId)!;
          expect(invoice.lines[0]!.period).toEqual(data.period);
          expect(invoice.total).toBe(data.amount);
        }
        expect((await inject('GET', `/invoices?customerId=${yearly.customerId}`)).json().invoices).toHaveLength(2);
        expect(
          (await inject('GET', `/invoices?customerId=${usd.customerId}`))
            .json()
            .invoices.every((i: InvoiceJson) => i.currency === 'USD'),
        ).toBe(true);
        expect((await inject('GET', `/invoices?customerId=${failing.customerId}`)).json().invoices).toHaveLength(2);

        // Pages follow one another without loss or repetition.
        const pageThrough = async (path: string, key: 'invoices' | 'entries') => {
          const seen: { id: string }[] = [];
          for (let cursor: string | null = null, pages = 0; pages === 0 || cursor; pages++) {
            const response = await inject('GET', `${path}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
            expect(response.statusCode, response.body).toBe(200);
            seen.push(...response.json()[key]);
            cursor = response.json().nextCursor;
          }
          return seen;
        };
        const allInvoices = await pageThrough('/invoices?limit=7', 'invoices');
        expect(allInvoices).toHaveLength((await invoicesInDb()).length);
        expect(new Set(allInvoices.map((invoice) => invoice.id)).size).toBe(allInvoices.length);
        const allEntries = await pageThrough('/ledger/entries?limit=400', 'entries');
        expect(allEntries).toHaveLength(await count('select count(*)::int8 as n from journal_entries'));
        expect((await inject('GET', '/invoices?cursor=nonsense')).statusCode).toBe(400);
      },
    );

    it.skipIf(skip)('rejects a posting that cannot be right, and dead-letters it', async () => {
      const victim = await register('starter-monthly');
      await settle();
      // A refund of more than was charged (the payment decider would refuse it; written directly).
      const { store, deadLetters } = fixture.platform;
      const refund = await store.append(paymentStream(victim.paymentId), [
        {
          type: 'PaymentRefunded',
          data: {
            paymentId: victim.paymentId,
            customerId: victim.customerId,
            subscriptionId: null,
            amount: 901,
            currency: 'EUR',
            reason: 'bogus',
            gatewayReference: 're_bogus',
            refundedAt: await now(),
          },
        },
      ]);
      const letter = await waitFor('the dead letter', async () =>
        (await deadLetters.list({ consumer: 'gl-posting' })).find((l) => l.eventId === refund.events[0]!.id),
      );
      expect(letter.error).toMatch(/exceeds/);
      const entries = (await inject('GET', `/ledger/entries?paymentId=${victim.paymentId}`)).json()
        .entries as EntryJson[];
      expect(entries.map((e) => e.kind).sort()).toEqual(['charge', 'settlement']);
      for (const { balanced } of (await trialBalance()).currencies) expect(balanced).toBe(true);
    });
  });
}

function taxSuite(mode: Mode) {
  describe(`billing with tax on ${mode}`, async () => {
    const faults: RegistrationFaults = {};
    const fixture = (await openPlatform(
      mode,
      { ...ENV, TAX_RATE_BPS: '2000' },
      { consumers: undefined, faults },
    )) as PlatformFixture;
    const skip = fixture === null;
    afterAll(async () => fixture?.close());
    const inject = (url: string) => fixture.platform.http.inject({ method: 'GET', url, headers: admin });

    it.skipIf(skip)(
      'shows the tax inside the price on the invoice and owes it in the ledger until refunded',
      async () => {
        const register = async () =>
          fixture.platform.http.inject({
            method: 'POST',
            url: '/register',
            payload: {
              email: `t-${uuidv7()}@example.com`,
              name: 'Tia Tax',
              planId: 'pro-monthly',
              paymentMethod: 'pm_card_visa',
            },
          });
        const kept = (await register()).json();
        faults.failSubscriptionStep = true;
        expect((await register()).statusCode).toBe(503);
        faults.failSubscriptionStep = false;
        const invoice = await waitFor(
          'the invoice',
          async () =>
            (await inject(`/invoices?customerId=${kept.customerId}`)).json().invoices[0] as InvoiceJson | undefined,
        );
        expect(invoice).toMatchObject({ subtotal: 2417, tax: 483, total: 2900, taxRateBps: 2000 });
        expect(invoice.lines[0]).toMatchObject({ amount: 2417 });
        await waitFor('both charges and the refund in the ledger', async () => {
          const entries = (await inject('/ledger/entries?limit=1000')).json().entries as EntryJson[];
          return (
            entries.filter((e) => e.kind === 'settlement').length === 2 && entries.some((e) => e.kind === 'refund')
          );
        });
        const tb = (await inject('/ledger/trial-balance')).json() as TrialBalanceJson;
        const eur = tb.currencies.find((c) => c.currency === 'EUR')!;
        const balance = (code: string) => eur.accounts.find((a) => a.code === code)?.balance ?? 0;
        expect(eur.balanced).toBe(true);
        expect(balance(ACCOUNT.cash)).toBe(2900);
        expect(balance(ACCOUNT.tax)).toBe(-483);
        expect(-balance(ACCOUNT.deferred) - balance(ACCOUNT.revenue)).toBe(2417);
        const charge = (await inject(`/ledger/entries?paymentId=${kept.paymentId}&kind=charge`)).json()
          .entries[0] as EntryJson;
        expect(Object.fromEntries(charge.lines.map((l) => [l.account, l.amount]))).toEqual({
          [ACCOUNT.receivable]: 2900,
          [ACCOUNT.deferred]: -2417,
          [ACCOUNT.tax]: -483,
        });
        const refund = ((await inject('/ledger/entries?kind=refund')).json().entries as EntryJson[])[0]!;
        expect(Object.fromEntries(refund.lines.map((l) => [l.account, l.amount]))).toEqual({
          [ACCOUNT.deferred]: 2417,
          [ACCOUNT.tax]: 483,
          [ACCOUNT.cash]: -2900,
        });
      },
    );
  });
}

billingSuite('embedded');
billingSuite('distributed');
taxSuite('embedded');
taxSuite('distributed');
