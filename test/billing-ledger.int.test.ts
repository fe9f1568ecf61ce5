import { v7 as uuidv7 } from 'uuid';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seedEvents } from '../src/domain/events/index.ts';
import { EventCatalog } from '../src/kernel/catalog/catalog.ts';
import { migrate } from '../src/kernel/db/migrate.ts';
import { silentLogger } from '../src/kernel/logger.ts';
import type { RecordedEvent } from '../src/kernel/store/envelope.ts';
import { glPosting } from '../src/reactions/billing/gl-posting.ts';
import { ACCOUNTS } from '../src/reactions/billing/ledger/accounts.ts';
import { credit, debit, postEntries, UnbalancedEntryError } from '../src/reactions/billing/ledger/journal.ts';
import { listEntries, trialBalance } from '../src/reactions/billing/ledger/ledger-queries.ts';
import { recogniseDue } from '../src/reactions/billing/ledger/revenue-schedules.ts';
import { billingMigrations } from '../src/reactions/billing/migrations.ts';
import { loadPlans } from '../src/services/plans/index.ts';
import { planLookup } from '../src/reactions/billing/plans.ts';
import { openStore, type Backend, type StoreFixture } from './support/open-store.ts';
import { postgresAvailable } from './support/postgres.ts';

const DAY = 86_400_000;

/** The ledger's SQL on both backends, driven directly: event orders a bus may produce, and the clock. */
function ledgerContract(backend: Backend) {
  describe(`the general ledger on ${backend}`, async () => {
    const skip = backend === 'PostgreSQL' && !(await postgresAvailable());
    let fixture: StoreFixture;
    let handle: (event: RecordedEvent) => Promise<void>;

    beforeEach(async () => {
      if (skip) return;
      fixture = await openStore(backend, new EventCatalog(seedEvents));
      await migrate(fixture.db, billingMigrations);
      const consumer = glPosting({ store: fixture.store, plans: planLookup(await loadPlans()), clock: fixture.clock });
      handle = (event) =>
        fixture.db.transaction((tx) =>
          consumer.handle(event, {
            tx,
            log: silentLogger,
            metadata: { correlationId: event.id, causationId: event.id, actor: 'test' },
          }),
        );
    });
    afterEach(async () => fixture?.close());

    /** A registered customer's charge (and optionally its refund), as the saga records them. */
    const charge = async (options: { planId?: string; amount?: number; currency?: string } = {}) => {
      const customerId = uuidv7();
      const paymentId = uuidv7();
      const at = fixture.clock.now().toISOString();
      await fixture.store.append(`customer-${customerId}`, [
        {
          type: 'CustomerCreated',
          data: {
            customerId,
            pii: { alg: 'A256GCM', iv: 'aXYxMjM0NTY3ODkw', ciphertext: 'Y2lwaGVydGV4dA', tag: 'dGFnMTIzNDU2Nzg5MDEy' },
            planId: options.planId ?? 'pro-monthly',
            createdAt: at,
          },
        },
      ]);
      await fixture.store.append(`payment-${paymentId}`, [
        {
          type: 'PaymentProcessed',
          data: {
            paymentId,
            customerId,
            subscriptionId: null,
            amount: options.amount ?? 2900,
            currency: options.currency ?? 'EUR',
            purpose: 'registration',
            periodIndex: 0,
            paymentMethod: { brand: 'visa', last4: '4242' },
            gatewayReference: `ch_${paymentId}`,
            processedAt: at,
            taxRateBps: 0,
            taxAmount: 0,
          },
        },
      ]);
      const refund = async (amount: number) => {
        await fixture.store.append(`payment-${paymentId}`, [
          {
            type: 'PaymentRefunded',
            data: {
              paymentId,
              customerId,
              subscriptionId: null,
              amount,
              currency: options.currency ?? 'EUR',
              reason: 'test',
              gatewayReference: `re_${paymentId}`,
              refundedAt: fixture.clock.now().toISOString(),
            },
          },
        ]);
        return (await fixture.store.readStream(`payment-${paymentId}`)).at(-1)!;
      };
      return { customerId, paymentId, processed: (await fixture.store.readStream(`payment-${paymentId}`))[0]!, refund };
    };
    const balances = async (currency = 'EUR') => {
      const tb = await trialBalance(fixture.db, fixture.clock.now());
      const accounts = tb.currencies.find((c) => c.currency === currency)?.accounts ?? [];
      expect(tb.currencies.every((c) => c.balanced)).toBe(true);
      return Object.fromEntries(accounts.map((a) => [a.code, a.balance]));
    };
    const recognise = () => recogniseDue(fixture.db, fixture.clock.now(), fixture.clock.now());

    it.skipIf(skip)(
      'posts a refund that arrives before its charge (two topics), and the charge later finds itself posted',
      async () => {
        const { paymentId, processed, refund } = await charge();
        const refunded = await refund(2900);
        await handle(refunded);
        await handle(processed);
        await handle(processed);
        const entries = await listEntries(fixture.db, { paymentId, limit: 100 });
        expect(entries.map((e) => e.kind)).toEqual(['charge', 'settlement', 'refund']);
        expect(entries.map((e) => e.sourceId)).toEqual([processed.id, processed.id, refunded.id]);
        expect(await balances()).toEqual({
          [ACCOUNTS.cash]: 0,
          [ACCOUNTS.receivable]: 0,
          [ACCOUNTS.deferredRevenue]: 0,
        });
      },
    );

    it.skipIf(skip)(
      'recognises revenue day by day as the clock moves, once, and the refund of a used period goes to Refunds',
      async () => {
        const usd = await charge({ planId: 'pro-monthly-usd', amount: 3200, currency: 'USD' });
        const { paymentId, processed, refund } = await charge();
        await handle(processed);
        await handle(usd.processed);
        const start = fixture.clock.now().getTime();
        const days = Math.round(
          (Date.parse(new Date(new Date(start).setUTCMonth(new Date(start).getUTCMonth() + 1)).toISOString()) - start) /
            DAY,
        );
        expect(await recognise()).toBe(0);

        fixture.clock.advanceBy(10 * DAY + 5);
        expect(await recognise()).toBe(20); // ten days of each charge
        expect(await recognise()).toBe(0);
        const earned = Math.floor((2900 * 10) / days);
        expect(await balances()).toMatchObject({
          [ACCOUNTS.cash]: 2900,
          [ACCOUNTS.deferredRevenue]: -(2900 - earned),
          [ACCOUNTS.revenue]: -earned,
        });
        expect((await balances('USD'))[ACCOUNTS.cash]).toBe(3200);
        const recognitions = await listEntries(fixture.db, { paymentId, kind: 'recognition', limit: 100 });
        expect(recognitions.map((e) => e.part)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        expect(recognitions.map((e) => e.effectiveAt)).toEqual(
          recognitions.map((_, i) => new Date(start + (i + 1) * DAY).toISOString()),
        );
        // As of day five, only five days were earned: entries are dated the day they were earned.
        const dayFive = await trialBalance(fixture.db, new Date(start + 5 * DAY));
        expect(
          dayFive.currencies.find((c) => c.currency === 'EUR')!.accounts.find((a) => a.code === ACCOUNTS.revenue)!
            .balance,
        ).toBe(-Math.floor((2900 * 5) / days));

        fixture.clock.advanceBy(40 * DAY);
        await recognise();
        expect(await balances()).toMatchObject({ [ACCOUNTS.deferredRevenue]: 0, [ACCOUNTS.revenue]: -2900 });
        await handle(await refund(2900));
        expect(await balances()).toEqual({
          [ACCOUNTS.cash]: 0,
          [ACCOUNTS.receivable]: 0,
          [ACCOUNTS.deferredRevenue]: 0,
          [ACCOUNTS.revenue]: -2900,
          [ACCOUNTS.refunds]: 2900,
        });
        expect(await recognise()).toBe(0);
      },
    );

    it.skipIf(skip)('writes nothing of a batch with an unbalanced entry, and never rewrites the journal', async () => {
      const base = {
        sourceId: uuidv7(),
        part: 0,
        paymentId: uuidv7(),
        customerId: uuidv7(),
        currency: 'EUR',
        description: 'test',
        effectiveAt: fixture.clock.now(),
      };
      await expect(
        fixture.db.transaction((tx) =>
          postEntries(
            tx,
            [
              {
                ...base,
                kind: 'charge',
                lines: [debit(ACCOUNTS.receivable, 100), credit(ACCOUNTS.deferredRevenue, 100)],
              },
              { ...base, kind: 'settlement', lines: [debit(ACCOUNTS.cash, 100), credit(ACCOUNTS.receivable, 99)] },
            ],
            fixture.clock.now(),
          ),
        ),
      ).rejects.toThrow(UnbalancedEntryError);
      expect(await listEntries(fixture.db, { limit: 10 })).toEqual([]);
      const { processed } = await charge();
      await handle(processed);
      await expect(fixture.db.query('update journal_lines set amount = amount * 2')).rejects.toThrow(/append-only/);
      await expect(fixture.db.query('delete from journal_entries')).rejects.toThrow(/append-only/);
    });
  });
}

ledgerContract('PGlite');
ledgerContract('PostgreSQL');
