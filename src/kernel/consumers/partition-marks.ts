import type { BusMessage } from '../bus/message.ts';
import type { Sql } from '../db/database.ts';
import { compareLogPositions } from '../projections/log-position.ts';
import type { LogPosition } from '../store/envelope.ts';
import type { OrderedBatch, PositionMark } from './ordered-batch.ts';

interface Mark {
  position: LogPosition;
  inboxUntil: LogPosition | null;
}

/** A batch's messages of one partition: their indexes in the batch and the last log position among them. */
interface PartitionRange {
  topic: string;
  partition: number;
  end: LogPosition;
  indexes: number[];
}

const LOCK_MARKS = /* sql */ `
  insert into partition_marks (consumer, topic, partition, tx_id, position)
  select $1, topic, partition, '0', 0 from unnest($2::text[], $3::int[]) as batch (topic, partition)
  order by topic, partition
  on conflict (consumer, topic, partition) do update set tx_id = partition_marks.tx_id
  returning topic, partition, tx_id::text, position, inbox_until_tx::text, inbox_until_position`;

const MOVE_MARKS = /* sql */ `
  update partition_marks m set tx_id = batch.tx_id, position = batch.position
  from unnest($2::text[], $3::int[], $4::xid8[], $5::bigint[]) as batch (topic, partition, tx_id, position)
  where m.consumer = $1 and m.topic = batch.topic and m.partition = batch.partition`;

const MARK_INBOX = /* sql */ `
  insert into partition_marks as m (consumer, topic, partition, tx_id, position, inbox_until_tx, inbox_until_position)
  select $1, topic, partition, '0', 0, tx_id, position
  from unnest($2::text[], $3::int[], $4::xid8[], $5::bigint[]) as batch (topic, partition, tx_id, position)
  order by topic, partition
  on conflict (consumer, topic, partition) do update
  set inbox_until_tx = excluded.inbox_until_tx, inbox_until_position = excluded.inbox_until_position
  where m.inbox_until_tx is null
    or (m.inbox_until_tx, m.inbox_until_position) < (excluded.inbox_until_tx, excluded.inbox_until_position)`;

/**
 * A Kafka consumer group's marks in the runner's database: per partition, the log position its
 * batches applied up to. The relay publishes the log in its order and publishes an event only
 * after every one before it was acknowledged, so in a partition an event first comes after every
 * earlier one of that partition; what comes at or below the mark is a republished duplicate. A
 * batch moves the marks in its own transaction and writes no inbox rows; the paths one event at a
 * time use the inbox and record their range (`inbox_until`), which a later batch checks.
 *
 * The mark is per partition: adding partitions to a topic while the relay republishes after a
 * crash could send a duplicate to a partition that never saw it (and reorders keys anyway).
 */
export class PartitionMarks {
  private readonly marks = new Map<string, PositionMark>();

  constructor(
    private readonly consumer: string,
    private readonly sql: Sql,
  ) {}

  /** The marks of a batch in delivery order, or nothing when a message lacks its log position (the inbox decides). */
  batch(messages: readonly BusMessage[]): OrderedBatch | undefined {
    const ranges = new Map<string, PartitionRange>();
    const positions: LogPosition[] = [];
    for (const [index, message] of messages.entries()) {
      const at = logPositionOf(message);
      const partition = message.origin?.partition;
      if (!at || typeof partition !== 'number') return undefined;
      positions.push(at);
      const key = keyOf(message.topic, partition);
      let range = ranges.get(key);
      if (!range) ranges.set(key, (range = { topic: message.topic, partition, end: at, indexes: [] }));
      else if (compareLogPositions(at, range.end) > 0) range.end = at;
      range.indexes.push(index);
      message.mark ??= this.markOf(key, message.topic, partition);
    }
    const all = [...ranges.values()];
    let claimed = new Map<string, Mark>();
    const before = (range: PartitionRange) => claimed.get(keyOf(range.topic, range.partition))!;
    return {
      claim: async (tx) => {
        claimed = await this.lock(tx, all);
        const passed = new Set<number>();
        let checkInbox = false;
        for (const range of all) {
          const mark = before(range);
          for (const index of range.indexes) {
            const at = positions[index]!;
            if (compareLogPositions(at, mark.position) <= 0) passed.add(index);
            else if (mark.inboxUntil && compareLogPositions(at, mark.inboxUntil) <= 0) checkInbox = true;
          }
        }
        const moved = all.filter((range) => compareLogPositions(range.end, before(range).position) > 0);
        if (moved.length > 0) await this.write(tx, MOVE_MARKS, moved, (range) => range.end);
        return { checkInbox, passed };
      },
      keep: async (tx) => {
        await this.write(tx, MOVE_MARKS, all, (range) => before(range).position);
        await this.write(tx, MARK_INBOX, all, (range) => range.end);
      },
      throughInbox: () => this.write(this.sql, MARK_INBOX, all, (range) => range.end),
    };
  }

  /** Locks the ranges' marks (created at the log's start when new) and reads them. */
  private async lock(tx: Sql, ranges: readonly PartitionRange[]): Promise<Map<string, Mark>> {
    const { rows } = await tx.query<{
      topic: string;
      partition: number;
      tx_id: string;
      position: number;
      inbox_until_tx: string | null;
      inbox_until_position: number | null;
    }>(LOCK_MARKS, [this.consumer, ranges.map((range) => range.topic), ranges.map((range) => range.partition)]);
    const marks = new Map<string, Mark>();
    for (const row of rows) {
      const inboxUntil =
        row.inbox_until_tx === null ? null : { txId: row.inbox_until_tx, position: Number(row.inbox_until_position) };
      marks.set(keyOf(row.topic, row.partition), {
        position: { txId: row.tx_id, position: Number(row.position) },
        inboxUntil,
      });
    }
    return marks;
  }

  private async write(
    sql: Sql,
    statement: string,
    ranges: readonly PartitionRange[],
    to: (range: PartitionRange) => LogPosition,
  ): Promise<void> {
    await sql.query(statement, [
      this.consumer,
      ranges.map((range) => range.topic),
      ranges.map((range) => range.partition),
      ranges.map((range) => to(range).txId),
      ranges.map((range) => to(range).position),
    ]);
  }

  /** A partition's mark, checked for an event of it going through the inbox alone (by whichever group processes it). */
  private markOf(key: string, topic: string, partition: number): PositionMark {
    let mark = this.marks.get(key);
    if (!mark) this.marks.set(key, (mark = partitionMark(topic, partition)));
    return mark;
  }
}

/** Under a share lock of the mark's row, as a batch moving it holds the row. */
function partitionMark(topic: string, partition: number): PositionMark {
  return {
    async passed(tx, _db, group, at) {
      const { rows } = await tx.query<{ passed: boolean }>(
        `select (tx_id, position) >= ($4::xid8, $5::bigint) as passed from partition_marks
         where consumer = $1 and topic = $2 and partition = $3 for share`,
        [group, topic, partition, at.txId, at.position],
      );
      return rows[0]?.passed === true;
    },
  };
}

const keyOf = (topic: string, partition: number) => `${topic}\0${partition}`;

/** The log position the relay wrote in the message's headers, if it did. */
function logPositionOf(message: BusMessage): LogPosition | undefined {
  const { ce_txid: txId, ce_position: position } = message.headers;
  if (!txId || !position || !/^\d+$/.test(txId) || !/^\d+$/.test(position)) return undefined;
  return { txId, position: Number(position) };
}
