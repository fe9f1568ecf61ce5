import { randomBytes } from 'node:crypto';

/**
 * Random bytes from the CSPRNG, drawn 4 kB at a time: a `randomBytes` call costs 5-7 µs here
 * whatever its size, and a registration makes about twenty small draws (its ids, the customer's
 * key, the IVs of its sealed data, the gateway's ids).
 */
const BLOCK = 4096;
let block = randomBytes(BLOCK);
let offset = 0;

/** `size` fresh random bytes: a view of the pool, never handed out again (a used-up block is replaced, not refilled). */
export function pooledRandomBytes(size: number): Buffer {
  if (size > BLOCK) return randomBytes(size);
  if (offset + size > BLOCK) {
    block = randomBytes(BLOCK);
    offset = 0;
  }
  return block.subarray(offset, (offset += size));
}
