import type { Database, Sql } from '../db/database.ts';
import type { LogPosition } from '../store/envelope.ts';

/**
 * Where a bus keeps its consumer groups' positions for a message it delivered (the embedded bus's
 * group positions in the store's database, Kafka's partition marks in the runner's): an event a
 * group's position has passed was applied by a batch that wrote no inbox row for it.
 */
export interface PositionMark {
  /**
   * In the event's inbox transaction in `db`: whether the group's position there is already past
   * it (false where `db` keeps none). Waits for a batch moving the position.
   */
  passed(tx: Sql, db: Database, group: string, at: LogPosition): Promise<boolean>;
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
