import { describe, expect, it } from 'vitest';
import { addMonths, periodAt, periodEnd } from './period.ts';

describe('periodEnd', () => {
  it.each([
    ['2025-01-15T10:00:00.000Z', 'month', '2025-02-15T10:00:00.000Z'],
    ['2025-01-31T10:00:00.000Z', 'month', '2025-02-28T10:00:00.000Z'],
    ['2024-01-31T10:00:00.000Z', 'month', '2024-02-29T10:00:00.000Z'],
    ['2100-01-31T00:00:00.000Z', 'month', '2100-02-28T00:00:00.000Z'],
    ['2000-01-31T00:00:00.000Z', 'month', '2000-02-29T00:00:00.000Z'],
    ['2025-03-31T23:59:59.999Z', 'month', '2025-04-30T23:59:59.999Z'],
    ['2025-12-31T08:30:00.000Z', 'month', '2026-01-31T08:30:00.000Z'],
    ['2025-03-01T00:00:00.000Z', 'year', '2026-03-01T00:00:00.000Z'],
    ['2024-02-29T12:00:00.000Z', 'year', '2025-02-28T12:00:00.000Z'],
    ['2023-02-28T12:00:00.000Z', 'year', '2024-02-28T12:00:00.000Z'],
  ] as const)(
    '%s + one %s = %s (calendar months in UTC, the last day when the month is shorter)',
    (start, interval, end) => {
      expect(periodEnd(start, interval)).toBe(end);
    },
  );

  it('takes a Date as well', () => {
    expect(periodEnd(new Date('2024-01-30T00:00:00.000Z'), 'month')).toBe('2024-02-29T00:00:00.000Z');
  });

  it('ignores the local time zone: a time just before midnight UTC stays on its UTC day', () => {
    expect(addMonths('2025-01-31T23:30:00.000Z', 1)).toBe('2025-02-28T23:30:00.000Z');
  });

  it('refuses something that is not a time', () => {
    expect(() => periodEnd('soon', 'month')).toThrow(RangeError);
  });
});

describe('periodAt', () => {
  it('counts from the anchor, so a month-end subscription keeps the month end', () => {
    const anchor = '2025-01-31T10:00:00.000Z';
    const ends = Array.from({ length: 12 }, (_, index) => periodAt(anchor, 'month', index).end.slice(0, 10));
    expect(ends).toEqual([
      '2025-02-28',
      '2025-03-31',
      '2025-04-30',
      '2025-05-31',
      '2025-06-30',
      '2025-07-31',
      '2025-08-31',
      '2025-09-30',
      '2025-10-31',
      '2025-11-30',
      '2025-12-31',
      '2026-01-31',
    ]);
  });

  it('gives contiguous periods: each starts where the previous ended', () => {
    for (const anchor of [
      '2024-01-29T10:00:00.000Z',
      '2024-01-30T10:00:00.000Z',
      '2024-01-31T10:00:00.000Z',
      '2025-08-31T00:00:00.000Z',
    ]) {
      for (let index = 1; index < 36; index++) {
        expect(periodAt(anchor, 'month', index).start).toBe(periodAt(anchor, 'month', index - 1).end);
      }
    }
  });

  it('brings a leap-day yearly subscription back to Feb 29 in the next leap year', () => {
    const anchor = '2024-02-29T09:00:00.000Z';
    expect([1, 2, 3, 4].map((index) => periodAt(anchor, 'year', index).start)).toEqual([
      '2025-02-28T09:00:00.000Z',
      '2026-02-28T09:00:00.000Z',
      '2027-02-28T09:00:00.000Z',
      '2028-02-29T09:00:00.000Z',
    ]);
  });
});
