import type { LogPosition } from '../store/envelope.ts';

/** Orders two positions of the global log as it is read: by transaction id, then by position. */
export function compareLogPositions(a: LogPosition, b: LogPosition): number {
  const byTx = BigInt(a.txId) - BigInt(b.txId);
  if (byTx !== 0n) return byTx < 0n ? -1 : 1;
  return a.position - b.position;
}
