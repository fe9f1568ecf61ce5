import { v7 as uuidv7 } from 'uuid';
import { afterAll, describe, expect, it } from 'vitest';
import type { PaymentProcessedData } from '../src/domain/events/index.ts';
import { loadConfig } from '../src/kernel/config.ts';
import { ConsumerRunner } from '../src/kernel/consumers/consumer-runner.ts';
import { silentLogger } from '../src/kernel/logger.ts';
import { billingConsumers } from '../src/reactions/billing/index.ts';
import { ADMIN_TOKEN, openPlatform, type Mode, type PlatformFixture } from './support/platform-fixture.ts';
import { waitFor } from './support/wait-for.ts';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const TAX = '2200';

interface InvoiceJson {
  paymentId: string;
  subtotal: number;
  tax: number;
  total: number;
  taxRateBps: number;
}
interface EntryJson {
  kind: string;
  paymentId: string;
  lines: { account: string; amount: number }[];
}

/**
 * The charges are captured at 20% and the billing consumers only start after TAX_RATE_BPS became
 * 5%: the invoices and the ledger still show the 20% each charge recorded.
 */
function taxTravelsSuite(mode: Mode) {
  describe(`the tax a charge carried, on ${mode}`, async () => {
    const fixture = (await openPlatform(mode, { TAX_RATE_BPS: '2000' })) as PlatformFixture;
    const skip = fixture === null;
    afterAll(async () => fixture?.close());
    const inject = (method: 'GET' | 'POST', url: string, payload?: object) =>
      fixture.platform.http.inject({ method, url, payload, headers: admin });

    it.skipIf(skip)('is what the invoice and the ledger show, whatever the rate when they are written', async () => {
      const { platform } = fixture;
      const email = `tax-${uuidv7()}@example.com`;
      const registered = await inject('POST', '/register', {
        email,
        name: 'Tom Tax',
        planId: 'pro-monthly',
        paymentMethod: 'pm_card_visa',
      });
      expect(registered.statusCode, registered.body).toBe(201);
      const { customerId } = registered.json() as { customerId: string };
      expect((await inject('POST', '/admin/clock/advance', { days: 32 })).statusCode).toBe(200); // one renewal
      const { rows } = await platform.db.query<{ data: PaymentProcessedData }>(
        `select data from events where type = 'PaymentProcessed' and partition_key = $1 order by position`,
        [customerId],
      );
      expect(rows.map((row) => row.data.purpose)).toEqual(['registration', 'renewal']);
      for (const { data } of rows) expect(data).toMatchObject({ amount: 2900, taxRateBps: 2000, taxAmount: 483 });

      // The rate changes before billing sees the charges (a lagging consumer, a deploy, a DLQ replay).
      const later = loadConfig({ ADMIN_TOKEN, TAX_RATE_BPS: '500' });
      const { plans, db, store, catalog, clock, log, deadLetters } = platform;
      const consumers = billingConsumers({ config: later, plans, db, store, catalog, clock, log });
      const subscriptions = await Promise.all(
        consumers.map((consumer) =>
          platform.bus.subscribe(
            new ConsumerRunner(consumer, { db, catalog, clock, log: silentLogger, deadLetters, retry: later.retry }),
          ),
        ),
      );
      try {
        const invoices = await waitFor('both invoices', async () => {
          const list = (await inject('GET', `/invoices?customerId=${customerId}`)).json().invoices as InvoiceJson[];
          return list.length === 2 && list;
        });
        for (const invoice of invoices)
          expect(invoice).toMatchObject({ subtotal: 2417, tax: 483, total: 2900, taxRateBps: 2000 });
        for (const { data } of rows) {
          const entries = await waitFor('the charge entry', async () => {
            const list = (await inject('GET', `/ledger/entries?paymentId=${data.paymentId}&kind=charge`)).json()
              .entries as EntryJson[];
            return list.length === 1 && list;
          });
          const lines = Object.fromEntries(entries[0]!.lines.map((line) => [line.account, line.amount]));
          expect(lines).toEqual({ '1100': 2900, '2100': -2417, [TAX]: -483 });
        }
      } finally {
        await Promise.all(subscriptions.map((subscription) => subscription.stop()));
      }
    });
  });
}

taxTravelsSuite('embedded');
taxTravelsSuite('distributed');
