import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import type { BusMessage } from '../bus/message.ts';

export interface DeadLetter {
  id: number;
  consumer: string;
  eventId: string | null;
  eventType: string | null;
  topic: string;
  message: BusMessage;
  error: string;
  poison: boolean;
  attempts: number;
  failedAt: Date;
  replayedAt: Date | null;
}

interface DeadLetterRow {
  id: number;
  consumer: string;
  event_id: string | null;
  event_type: string | null;
  topic: string;
  message_key: string;
  headers: Record<string, string>;
  body: string;
  origin: Record<string, string | number>;
  error: string;
  poison: boolean;
  attempts: number;
  failed_at: Date;
  replayed_at: Date | null;
}

const toDeadLetter = (row: DeadLetterRow): DeadLetter => ({
  id: row.id,
  consumer: row.consumer,
  eventId: row.event_id,
  eventType: row.event_type,
  topic: row.topic,
  message: { topic: row.topic, key: row.message_key, headers: row.headers, value: row.body, origin: row.origin },
  error: row.error,
  poison: row.poison,
  attempts: row.attempts,
  failedAt: row.failed_at,
  replayedAt: row.replayed_at,
});

/** The record of dead letters behind listing and replay (Kafka also gets a copy on the DLQ topic). */
export class DeadLetterStore {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async record(
    consumer: string,
    message: BusMessage,
    failure: { error: string; poison: boolean; attempts: number },
  ): Promise<number> {
    const { rows } = await this.db.query<{ id: number }>(
      `insert into dead_letters (consumer, event_id, event_type, topic, message_key, headers, body, origin, error, poison, attempts, failed_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) returning id`,
      [
        consumer,
        message.headers.ce_id ?? null,
        message.headers.ce_type ?? null,
        message.topic,
        message.key,
        JSON.stringify(message.headers),
        message.value,
        JSON.stringify(message.origin ?? {}),
        failure.error,
        failure.poison,
        failure.attempts,
        this.clock.now(),
      ],
    );
    return rows[0]!.id;
  }

  async list(options: { consumer?: string; includeReplayed?: boolean; limit?: number } = {}): Promise<DeadLetter[]> {
    const { rows } = await this.db.query<DeadLetterRow>(
      `select * from dead_letters
       where ($1::text is null or consumer = $1) and ($2 or replayed_at is null)
       order by id limit $3`,
      [options.consumer ?? null, options.includeReplayed ?? false, options.limit ?? 100],
    );
    return rows.map(toDeadLetter);
  }

  /** A consumer's dead letter still pending (not replayed yet), or null. */
  async findPending(consumer: string, id: number): Promise<DeadLetter | null> {
    const { rows } = await this.db.query<DeadLetterRow>(
      'select * from dead_letters where id = $1 and consumer = $2 and replayed_at is null',
      [id, consumer],
    );
    return rows[0] ? toDeadLetter(rows[0]) : null;
  }

  async markReplayed(id: number): Promise<void> {
    await this.db.query('update dead_letters set replayed_at = $2 where id = $1', [id, this.clock.now()]);
  }

  async markFailedAgain(id: number, error: string): Promise<void> {
    await this.db.query('update dead_letters set error = $2, attempts = attempts + 1 where id = $1', [id, error]);
  }
}
