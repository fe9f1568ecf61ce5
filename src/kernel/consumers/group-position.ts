import type { Clock } from '../clock.ts';
import type { Database, Sql } from '../db/database.ts';
import { LOG_START, type LogPosition } from '../store/envelope.ts';
import type { OrderedBatch, PositionMark } from './ordered-batch.ts';

/** Another member of the group (another process) has already moved its position past the batch. */
export class PositionTaken extends Error {
  constructor(group: string) {
    super(`consumer group ${group}: another member has moved its position past this batch`);
    this.name = 'PositionTaken';
  }
}

/**
 * The embedded bus's positions, kept in the store's database `log`: under a share lock of the
 * group's row, so two members of the group never both apply an event.
 */
export function groupPositionMark(log: Database): PositionMark {
  return {
    async passed(tx, db, group, at) {
      if (db !== log) return false;
      const { rows } = await tx.query<{ passed: boolean }>(
        `select (tx_id, position) >= ($2::xid8, $3::bigint) as passed from checkpoints where name = $1 for share`,
        [`consumer:${group}`, at.txId, at.position],
      );
      return rows[0]?.passed === true;
    },
  };
}

/**
 * A consumer group's position in the store's log (its `consumer:<name>` checkpoint) with the range
 * of the log whose events it may have taken through the inbox (`inbox_until`). The position only
 * moves forward. Its row is locked by each transaction that applies the group's events, so two
 * members of a group take turns and neither applies what the other did.
 */
export class GroupPosition {
  readonly name: string;

  constructor(
    private readonly group: string,
    private readonly sql: Sql,
    private readonly clock: Clock,
  ) {
    this.name = `consumer:${group}`;
  }

  /** The stored position, after creating the row (every later statement has a row to lock). */
  async load(): Promise<LogPosition> {
    await this.sql.query(
      `insert into checkpoints (name, tx_id, position, updated_at) values ($1, '0', 0, $2) on conflict do nothing`,
      [this.name, this.clock.now()],
    );
    const { rows } = await this.sql.query<{ tx_id: string; position: number }>(
      'select tx_id::text, position from checkpoints where name = $1',
      [this.name],
    );
    const row = rows[0];
    return row ? { txId: row.tx_id, position: row.position } : LOG_START;
  }

  /** Moves the position forward to `to` (never back): what the group read past outside a batch's transaction. */
  async advance(to: LogPosition, sql: Sql = this.sql): Promise<void> {
    await sql.query(
      `update checkpoints set tx_id = $2::xid8, position = $3, updated_at = $4
       where name = $1 and (tx_id, position) < ($2::xid8, $3::bigint)`,
      [this.name, to.txId, to.position, this.clock.now()],
    );
  }

  /**
   * A batch whose first event is at `first`, read after `before` (no event of the group lies
   * between them) from a page that ends at `end`.
   */
  batch(first: LogPosition, before: LogPosition, end: LogPosition): OrderedBatch {
    return {
      claim: async (tx) => {
        // An update re-checks its condition on the row's latest version once a concurrent one commits.
        const { rows } = await tx.query<{ check_inbox: boolean }>(
          `update checkpoints set tx_id = $4::xid8, position = $5, updated_at = $6
           where name = $1 and (tx_id, position) < ($2::xid8, $3::bigint)
           returning coalesce((inbox_until_tx, inbox_until_position) >= ($2::xid8, $3::bigint), false) as check_inbox`,
          [this.name, first.txId, first.position, end.txId, end.position, this.clock.now()],
        );
        if (rows.length === 0) throw new PositionTaken(this.group);
        return { checkInbox: rows[0]!.check_inbox };
      },
      keep: async (tx) => {
        await tx.query(`update checkpoints set tx_id = $2::xid8, position = $3 where name = $1`, [
          this.name,
          before.txId,
          before.position,
        ]);
        await this.markInbox(end, tx);
      },
      throughInbox: () => this.markInbox(end, this.sql),
    };
  }

  private async markInbox(until: LogPosition, sql: Sql): Promise<void> {
    await sql.query(
      `update checkpoints set inbox_until_tx = $2::xid8, inbox_until_position = $3
       where name = $1 and (inbox_until_tx is null or (inbox_until_tx, inbox_until_position) < ($2::xid8, $3::bigint))`,
      [this.name, until.txId, until.position],
    );
  }
}
