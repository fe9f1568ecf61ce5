import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatMoney, formatRate } from './format.ts';
import { inclusiveTax } from './tax.ts';

describe('tax included in the price', () => {
  it('is nothing at the default rate', () => {
    expect(inclusiveTax(2900, 0)).toEqual({ subtotal: 2900, tax: 0 });
  });

  it('takes the tax out of the total, rounded half up', () => {
    expect(inclusiveTax(2900, 2000)).toEqual({ subtotal: 2417, tax: 483 }); // 483.33
    expect(inclusiveTax(1200, 2000)).toEqual({ subtotal: 1000, tax: 200 });
    expect(inclusiveTax(21, 1000)).toEqual({ subtotal: 19, tax: 2 }); // 1.909...
    expect(inclusiveTax(11, 1000)).toEqual({ subtotal: 10, tax: 1 }); // exactly 1
    expect(inclusiveTax(33, 1000)).toEqual({ subtotal: 30, tax: 3 });
    expect(inclusiveTax(3, 2000)).toEqual({ subtotal: 2, tax: 1 }); // 0.5 → 1
  });

  it('always adds up to the charge, with a subtotal that is at the rate of the tax', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 99_999_999 }), fc.integer({ min: 0, max: 10_000 }), (total, rate) => {
        const { subtotal, tax } = inclusiveTax(total, rate);
        expect(subtotal + tax).toBe(total);
        expect(Number.isInteger(tax) && tax >= 0).toBe(true);
        // tax is the nearest integer to subtotal * rate, within a cent of rounding
        expect(Math.abs(tax * 10_000 - subtotal * rate)).toBeLessThanOrEqual(10_000 + rate);
      }),
    );
  });

  it('refuses floats and rates out of range', () => {
    expect(() => inclusiveTax(12.5, 0)).toThrow(RangeError);
    expect(() => inclusiveTax(100, 10_001)).toThrow(RangeError);
    expect(() => inclusiveTax(100, 19.5)).toThrow(RangeError);
  });
});

describe('money on invoices', () => {
  it('prints minor units in the currency, without floats', () => {
    expect(formatMoney(2900, 'EUR')).toBe('EUR 29.00');
    expect(formatMoney(5, 'USD')).toBe('USD 0.05');
    expect(formatMoney(500, 'JPY')).toBe('JPY 500');
    expect(formatMoney(1234567, 'KWD')).toBe('KWD 1,234.567');
    expect(formatMoney(900719925474099, 'EUR')).toBe('EUR 9,007,199,254,740.99');
  });

  it('prints rates', () => {
    expect(formatRate(2000)).toBe('20%');
    expect(formatRate(825)).toBe('8.25%');
    expect(formatRate(0)).toBe('0%');
  });
});
