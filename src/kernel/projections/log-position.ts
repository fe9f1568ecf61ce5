import type { LogPosition } from '../store/envelope.ts';

/** Orders two positions of the global log as it is read: by transaction id, then by position. */
export function compareLogPositions(a: LogPosition, b: LogPosition): number {
  const byTx = a.txId === b.txId ? 0 : compareDecimals(a.txId, b.txId);
  return byTx !== 0 ? byTx : a.position - b.position;
}

/** Two non-negative integers written in decimal, without a BigInt for each (a log's consumers compare one per event). */
function compareDecimals(a: string, b: string): number {
  const canonical = (text: string) => text.length === 1 || text[0] !== '0';
  if (canonical(a) && canonical(b) && a.length !== b.length) return a.length < b.length ? -1 : 1;
  if (canonical(a) && canonical(b)) return a < b ? -1 : 1;
  const difference = BigInt(a) - BigInt(b);
  return difference === 0n ? 0 : difference < 0n ? -1 : 1;
}
