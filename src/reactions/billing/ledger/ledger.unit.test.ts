import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACCOUNTS } from './accounts.ts';
import { assertBalanced, credit, debit, nonZero, UnbalancedEntryError, type JournalEntry } from './journal.ts';
import {
  dailyAmounts,
  dayEnd,
  daysEnded,
  daysOf,
  recognisedBy,
  RefundExceedsChargeError,
  splitRefund,
  type StraightLine,
} from './recognition.ts';

const DAY = 86_400_000;
const period = { start: new Date('2026-01-31T10:00:00.000Z'), end: new Date('2026-02-28T10:00:00.000Z') };
const fresh = (amount: number, days: number): StraightLine => ({
  days,
  anchorDay: 0,
  anchorRecognised: 0,
  anchorDeferred: amount,
});

describe('revenue recognition by day', () => {
  it('counts the days of a period and the days ended at an instant', () => {
    expect(daysOf(period)).toBe(28);
    expect(daysOf({ start: new Date('2026-01-15T00:00:00Z'), end: new Date('2027-01-15T00:00:00Z') })).toBe(365);
    expect(daysEnded(period, new Date(period.start.getTime() - DAY))).toBe(0);
    expect(daysEnded(period, new Date(period.start.getTime() + DAY - 1))).toBe(0);
    expect(daysEnded(period, new Date(period.start.getTime() + DAY))).toBe(1);
    expect(daysEnded(period, period.end)).toBe(28);
    expect(daysEnded(period, new Date(period.end.getTime() + 40 * DAY))).toBe(28);
    expect(dayEnd(period, 1).toISOString()).toBe('2026-02-01T10:00:00.000Z');
    expect(dayEnd(period, 28)).toEqual(period.end);
  });

  it('spreads the amount over the days in integers that add up to it exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 99_999_999 }), fc.integer({ min: 1, max: 366 }), (amount, days) => {
        const amounts = dailyAmounts(fresh(amount, days), 0, days);
        expect(amounts.reduce((sum, day) => sum + day.amount, 0)).toBe(amount);
        for (const { amount: earned } of amounts) expect(Number.isInteger(earned) && earned > 0).toBe(true);
        // never ahead of the straight line, and never a day's worth behind it
        for (let day = 0; day <= days; day++) {
          const by = recognisedBy(fresh(amount, days), day);
          expect(by * days).toBeLessThanOrEqual(amount * day);
          expect(amount * day - by * days).toBeLessThan(days);
        }
      }),
    );
  });

  it('gives the same days whether recognised day by day or in one catch-up', () => {
    const line = fresh(2900, 28);
    const stepwise = Array.from({ length: 28 }, (_, day) => dailyAmounts(line, day, day + 1)).flat();
    expect(dailyAmounts(line, 0, 28)).toEqual(stepwise);
    expect(dailyAmounts(line, 0, 10).concat(dailyAmounts(line, 10, 28))).toEqual(stepwise);
  });
});

describe('refunds', () => {
  const charge = { gross: 2900, tax: 0, amount: 2900, recognised: 0, released: 0, refunded: 0, refundedTax: 0 };

  it('takes a refund before any day passed out of Deferred Revenue only', () => {
    expect(splitRefund(charge, 2900)).toEqual({ tax: 0, deferred: 2900, refunds: 0 });
  });

  it('books what was recognised to Refunds and the rest out of Deferred Revenue', () => {
    expect(splitRefund({ ...charge, recognised: 1036 }, 2900)).toEqual({ tax: 0, deferred: 1864, refunds: 1036 });
  });

  it('splits a partial refund in proportion to what is still unearned, and returns the tax with it', () => {
    const taxed = { gross: 1200, tax: 200, amount: 1000, recognised: 400, released: 0, refunded: 0, refundedTax: 0 };
    const half = splitRefund(taxed, 600);
    expect(half).toEqual({ tax: 100, deferred: 300, refunds: 200 });
    const rest = splitRefund({ ...taxed, recognised: 550, released: 300, refunded: 600, refundedTax: 100 }, 600);
    expect(rest).toEqual({ tax: 100, deferred: 150, refunds: 350 });
    // everything given back: all the tax, all the deferred, and Refunds equal to all that was recognised
    expect(half.tax + rest.tax).toBe(200);
    expect(half.refunds + rest.refunds).toBe(550);
  });

  it('never takes more than is deferred, and always adds up to the refund', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (gross, rate, earned, part) => {
          const tax = Math.round((gross * rate) / (10_000 + rate));
          const amount = gross - tax;
          const recognised = Math.floor(amount * earned);
          const refund = Math.max(1, Math.floor(gross * part));
          const split = splitRefund(
            { gross, tax, amount, recognised, released: 0, refunded: 0, refundedTax: 0 },
            refund,
          );
          expect(split.tax + split.deferred + split.refunds).toBe(refund);
          expect(split.deferred).toBeLessThanOrEqual(amount - recognised);
          expect(Math.min(split.tax, split.deferred, split.refunds)).toBeGreaterThanOrEqual(0);
          if (refund === gross) expect(split).toEqual({ tax, deferred: amount - recognised, refunds: recognised });
        },
      ),
    );
  });

  it('refuses a refund larger than what is left of the charge', () => {
    expect(() => splitRefund(charge, 2901)).toThrow(RefundExceedsChargeError);
    expect(() => splitRefund({ ...charge, refunded: 2000, released: 2000 }, 1000)).toThrow(RefundExceedsChargeError);
  });
});

describe('journal entries', () => {
  const entry = (lines: JournalEntry['lines'], currency = 'EUR'): JournalEntry => ({
    sourceId: '0190c7a8-0000-7000-8000-000000000001',
    kind: 'charge',
    part: 0,
    paymentId: '0190c7a8-0000-7000-8000-000000000002',
    customerId: '0190c7a8-0000-7000-8000-000000000003',
    currency,
    description: 'test',
    effectiveAt: new Date('2026-03-01T00:00:00Z'),
    lines,
  });

  it('accepts an entry whose lines sum to zero', () => {
    expect(() =>
      assertBalanced(
        entry(
          nonZero(
            debit(ACCOUNTS.receivable, 2900),
            credit(ACCOUNTS.deferredRevenue, 2417),
            credit(ACCOUNTS.taxPayable, 483),
          ),
        ),
      ),
    ).not.toThrow();
  });

  it('rejects one that does not balance, is not integer money, or is one-sided', () => {
    expect(() => assertBalanced(entry([debit(ACCOUNTS.cash, 2900), credit(ACCOUNTS.receivable, 2899)]))).toThrow(
      /differ by 1 EUR/,
    );
    expect(() => assertBalanced(entry([debit(ACCOUNTS.cash, 29.5), credit(ACCOUNTS.receivable, 29.5)]))).toThrow(
      UnbalancedEntryError,
    );
    expect(() => assertBalanced(entry([debit(ACCOUNTS.cash, 0), credit(ACCOUNTS.receivable, 0)]))).toThrow(
      UnbalancedEntryError,
    );
    expect(() => assertBalanced(entry([debit(ACCOUNTS.cash, 1)]))).toThrow(/two lines/);
    expect(() => assertBalanced(entry([debit('9999' as never, 1), credit(ACCOUNTS.cash, 1)]))).toThrow(
      /unknown account/,
    );
    expect(() => assertBalanced(entry([debit(ACCOUNTS.cash, 1), credit(ACCOUNTS.receivable, 1)], 'eur'))).toThrow(
      /currency/,
    );
  });
});
