import type { Sql } from '../db/database.ts';
import type { LogPosition } from '../store/envelope.ts';

/**
 * A position a bus keeps in the runner's database for the messages it delivers (the embedded bus's
 * group position, a Kafka partition's mark): an event it has passed was applied by a batch that
 * wrote no inbox row for it.
 */
export interface PositionMark {
  /** In the event's inbox transaction: whether the position is already past it (waits for a batch moving it). */
  passed(tx: Sql, at: LogPosition): Promise<boolean>;
}

/**
 * What a bus gives the runner with a batch whose events came in the log's order (per group on the
 * embedded bus, per partition on Kafka), when the consumer's effects live where the bus keeps its
 * positions: the positions move in the batch's own transaction, so the batch needs no inbox rows
 * (a redelivery starts after it, or finds its events passed).
 */
export interface OrderedBatch {
  /**
   * The batch transaction's first statements: move the positions past the batch (their rows locked
   * until the commit) and answer which messages (by index) they had already passed, and whether
   * events of the batch may have been applied through the inbox (then the inbox is checked).
   * The embedded bus throws `PositionTaken` when another member has passed the batch.
   */
  claim(tx: Sql): Promise<{ checkInbox: boolean; passed?: ReadonlySet<number> }>;
  /** Some of the batch is left to its retries: the positions go back before it, and its range is checked against the inbox. */
  keep(tx: Sql): Promise<void>;
  /** Before the batch's events go one at a time through the inbox: its range is checked against the inbox from now on. */
  throughInbox(): Promise<void>;
}
