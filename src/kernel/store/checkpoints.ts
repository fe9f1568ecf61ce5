import type { Clock } from '../clock.ts';
import type { Sql } from '../db/database.ts';
import { LOG_START, type LogPosition } from './envelope.ts';

/** Named durable positions in the global log (consumer groups, the relay, projections). */
export class Checkpoints {
  constructor(
    private readonly sql: Sql,
    private readonly clock: Clock,
  ) {}

  async load(name: string, tx: Sql = this.sql): Promise<LogPosition> {
    const { rows } = await tx.query<{ tx_id: string; position: number }>(
      'select tx_id::text, position from checkpoints where name = $1',
      [name],
    );
    const row = rows[0];
    return row ? { txId: row.tx_id, position: row.position } : LOG_START;
  }

  async save(name: string, at: LogPosition, tx: Sql = this.sql): Promise<void> {
    await tx.query(
      `insert into checkpoints (name, tx_id, position, updated_at) values ($1, $2::xid8, $3, $4)
       on conflict (name) do update set tx_id = excluded.tx_id, position = excluded.position, updated_at = excluded.updated_at`,
      [name, at.txId, at.position, this.clock.now()],
    );
  }
}
