import { describe, expect, it } from 'vitest';
import { bucketCount, bucketIndexOf, bucketsOf, isCalendarDate } from './buckets.ts';

describe('time-series buckets', () => {
  it('cuts days, ISO weeks (from Monday) and months, clipped to the range', () => {
    expect(bucketsOf('2026-02-27', '2026-03-02', 'day').map((b) => b.start)).toEqual([
      '2026-02-27',
      '2026-02-28',
      '2026-03-01',
      '2026-03-02',
    ]);
    // 2026-03-04 is a Wednesday
    expect(bucketsOf('2026-03-04', '2026-03-17', 'week')).toEqual([
      { start: '2026-03-04', end: '2026-03-09' },
      { start: '2026-03-09', end: '2026-03-16' },
      { start: '2026-03-16', end: '2026-03-18' },
    ]);
    expect(bucketsOf('2026-01-15', '2026-03-01', 'month')).toEqual([
      { start: '2026-01-15', end: '2026-02-01' },
      { start: '2026-02-01', end: '2026-03-01' },
      { start: '2026-03-01', end: '2026-03-02' },
    ]);
  });

  it('counts buckets without building them, as many as bucketsOf builds', () => {
    for (const [from, to] of [
      ['2026-03-04', '2026-03-17'],
      ['2025-12-29', '2026-01-04'],
      ['2026-01-15', '2027-03-01'],
      ['2026-05-05', '2026-05-05'],
    ] as const) {
      for (const interval of ['day', 'week', 'month'] as const)
        expect(bucketCount(from, to, interval), `${from} ${to} ${interval}`).toBe(bucketsOf(from, to, interval).length);
    }
  });

  it('finds the bucket of a day', () => {
    const buckets = bucketsOf('2026-03-04', '2026-03-17', 'week');
    expect(bucketIndexOf(buckets, '2026-03-04')).toBe(0);
    expect(bucketIndexOf(buckets, '2026-03-15')).toBe(1);
    expect(bucketIndexOf(buckets, '2026-03-17')).toBe(2);
    expect(bucketIndexOf(buckets, '2026-03-18')).toBe(-1);
    expect(bucketIndexOf(buckets, '2026-03-03')).toBe(-1);
  });

  it('accepts real calendar dates only', () => {
    expect(isCalendarDate('2024-02-29')).toBe(true);
    expect(isCalendarDate('2026-02-29')).toBe(false);
    expect(isCalendarDate('2026-2-01')).toBe(false);
    expect(isCalendarDate('2026-02-01T00:00:00Z')).toBe(false);
  });
});
