import { describe, expect, it } from 'vitest';
import { validate, version } from 'uuid';
import { uuidv7 } from './ids.ts';

describe('uuidv7', () => {
  it('makes valid, distinct version 7 ids, in order within the process', () => {
    const ids = Array.from({ length: 5_000 }, () => uuidv7());
    for (const id of ids.slice(0, 50)) {
      expect(validate(id)).toBe(true);
      expect(version(id)).toBe(7);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('carries the time of its making', () => {
    const before = Date.now();
    const id = uuidv7();
    const msecs = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    expect(msecs).toBeGreaterThanOrEqual(before);
    expect(msecs).toBeLessThanOrEqual(Date.now() + 1);
  });
});
