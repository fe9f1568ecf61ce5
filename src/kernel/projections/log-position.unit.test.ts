import { describe, expect, it } from 'vitest';
import { compareLogPositions } from './log-position.ts';

describe('the order of log positions', () => {
  const at = (txId: string, position: number) => ({ txId, position });

  it('orders by transaction id as a number, then by position', () => {
    expect(compareLogPositions(at('9', 5), at('10', 1))).toBeLessThan(0);
    expect(compareLogPositions(at('10', 1), at('9', 5))).toBeGreaterThan(0);
    expect(compareLogPositions(at('123', 1), at('124', 0))).toBeLessThan(0);
    expect(compareLogPositions(at('18446744073709551615', 1), at('18446744073709551614', 9))).toBeGreaterThan(0);
    expect(compareLogPositions(at('7', 3), at('7', 4))).toBeLessThan(0);
    expect(compareLogPositions(at('7', 4), at('7', 4))).toBe(0);
  });

  it('reads a transaction id written with leading zeros as the number it is', () => {
    expect(compareLogPositions(at('007', 1), at('7', 1))).toBe(0);
    expect(compareLogPositions(at('007', 1), at('7', 2))).toBeLessThan(0);
    expect(compareLogPositions(at('010', 1), at('9', 1))).toBeGreaterThan(0);
  });
});
