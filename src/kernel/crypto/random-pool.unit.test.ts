import { describe, expect, it } from 'vitest';
import { pooledRandomBytes } from './random-pool.ts';

describe('pooledRandomBytes', () => {
  it('hands out bytes of the size asked, never the same bytes twice, across blocks', () => {
    const draws = Array.from({ length: 2_000 }, (_, n) => pooledRandomBytes(n % 2 ? 12 : 32));
    expect(draws.map((bytes) => bytes.length).slice(0, 2)).toEqual([32, 12]);
    expect(new Set(draws.map((bytes) => bytes.toString('hex'))).size).toBe(draws.length);
    const first = draws[0]!.toString('hex');
    pooledRandomBytes(4_000); // past the end of a block: the next one is new, the old one unchanged
    expect(draws[0]!.toString('hex')).toBe(first);
  });

  it('draws a size larger than a block on its own', () => {
    const large = pooledRandomBytes(10_000);
    expect(large.length).toBe(10_000);
    expect(new Set(large).size).toBeGreaterThan(200);
  });
});
