import { describe, expect, it } from 'vitest';
import { retainedMonths } from './retained-months.ts';

describe('retained months', () => {
  it('counts the monthly anniversaries before the churn, the signup itself included', () => {
    expect(retainedMonths('2026-01-15T10:00:00.000Z', '2026-01-15T10:00:00.000Z')).toBe(0);
    expect(retainedMonths('2026-01-15T10:00:00.000Z', '2026-01-15T10:00:00.001Z')).toBe(1);
    expect(retainedMonths('2026-01-15T10:00:00.000Z', '2026-02-15T10:00:00.000Z')).toBe(1);
    expect(retainedMonths('2026-01-15T10:00:00.000Z', '2026-02-15T10:00:01.000Z')).toBe(2);
    expect(retainedMonths('2026-01-15T10:00:00.000Z', '2027-01-16T00:00:00.000Z')).toBe(13);
  });

  it('clamps a day the month lacks, as PostgreSQL does', () => {
    // Jan 31 → Feb 28 → Mar 31
    expect(retainedMonths('2026-01-31T12:00:00.000Z', '2026-02-28T12:00:00.001Z')).toBe(2);
    expect(retainedMonths('2026-01-31T12:00:00.000Z', '2026-03-01T00:00:00.000Z')).toBe(2);
    expect(retainedMonths('2026-01-31T12:00:00.000Z', '2026-03-31T12:00:00.000Z')).toBe(2);
  });
});
