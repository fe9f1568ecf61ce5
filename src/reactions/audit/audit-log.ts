import type { Sql } from '../../kernel/db/database.ts';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';
import { chainHash, ChainVerifier, type AuditEntry, type AuditRecord, type ChainVerdict } from './audit-chain.ts';
import { auditSubject, auditSummary } from './audit-summary.ts';

interface RecordRow {
  id: string;
  event_id: string;
  event_type: string;
  subject: string;
  stream_id: string;
  actor: string;
  correlation_id: string;
  occurred_at: Date | string;
  summary: string;
  prev_hash: string;
  hash: string;
}

// bigint as text: pg and PGlite would otherwise disagree on its JavaScript type (so sort by
// `audit_records.id`: a bare `id` in ORDER BY would sort the text alias).
const COLUMNS = `id::text as id, event_id::text as event_id, event_type, subject, stream_id, actor, correlation_id, occurred_at, summary, prev_hash, hash`;

const recordOf = (row: RecordRow): AuditRecord => ({
  id: Number(row.id),
  eventId: row.event_id,
  eventType: row.event_type,
  subject: row.subject,
  streamId: row.stream_id,
  actor: row.actor,
  correlationId: row.correlation_id,
  occurredAt: new Date(row.occurred_at).toISOString(),
  summary: row.summary,
  prevHash: row.prev_hash,
  hash: row.hash,
});

/**
 * Appends the event's record to the chain inside `tx` (the consumer's transaction, which also
 * writes the inbox). Returns the new record, or null when the event is already in the chain.
 */
export async function appendAuditRecord(tx: Sql, event: RecordedEvent): Promise<AuditRecord | null> {
  return (await appendAuditRecords(tx, [event]))[0] ?? null;
}

/**
 * Appends the records of several events, in their order, under one lock of the chain head: the
 * head row lock makes concurrent writers take turns (one chain, never forked), and a batch hashes
 * all its records in that one turn. Events already in the chain (a replay past the inbox) add
 * nothing. Returns the new records.
 */
export async function appendAuditRecords(tx: Sql, events: readonly RecordedEvent[]): Promise<AuditRecord[]> {
  if (events.length === 0) return [];
  const { rows: heads } = await tx.query<{ last_id: string; last_hash: string }>(
    'select last_id::text as last_id, last_hash from audit_chain_head where singleton for update',
  );
  const head = heads[0];
  if (!head) throw new Error('audit_chain_head has no row: the audit migration did not run');
  const { rows: existing } = await tx.query<{ event_id: string }>(
    'select event_id::text as event_id from audit_records where event_id = any($1::uuid[])',
    [events.map((event) => event.id)],
  );
  const seen = new Set(existing.map((row) => row.event_id));
  let id = Number(head.last_id);
  let prevHash = head.last_hash;
  const records: AuditRecord[] = [];
  for (const event of events) {
    if (seen.has(event.id)) continue;
    seen.add(event.id);
    const entry: AuditEntry = {
      id: ++id,
      eventId: event.id,
      eventType: event.type,
      subject: auditSubject(event),
      streamId: event.streamId,
      actor: event.metadata.actor,
      correlationId: event.metadata.correlationId,
      occurredAt: event.occurredAt.toISOString(),
      summary: auditSummary(event),
    };
    const record: AuditRecord = { ...entry, prevHash, hash: chainHash(prevHash, entry) };
    prevHash = record.hash;
    records.push(record);
  }
  if (records.length === 0) return [];
  const column = <K extends keyof AuditRecord>(key: K) => records.map((record) => record[key]);
  await tx.query(
    `insert into audit_records (id, event_id, event_type, subject, stream_id, actor, correlation_id, occurred_at, summary, prev_hash, hash)
     select * from unnest($1::int8[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::text[], $10::text[], $11::text[])`,
    [
      column('id'),
      column('eventId'),
      column('eventType'),
      column('subject'),
      column('streamId'),
      column('actor'),
      column('correlationId'),
      column('occurredAt'),
      column('summary'),
      column('prevHash'),
      column('hash'),
    ],
  );
  const last = records.at(-1)!;
  await tx.query('update audit_chain_head set last_id = $1, last_hash = $2 where singleton', [last.id, last.hash]);
  return records;
}

export interface AuditQuery {
  subject?: string;
  /** Event types to keep (any of them); none = all. */
  types?: string[];
  /** Event time, inclusive. */
  from?: Date;
  /** Event time, exclusive. */
  to?: Date;
  limit: number;
  /** Records after this id (the previous page's cursor). */
  after?: number;
}

/** Reads and checks the audit trail; it never writes it. */
export class AuditLog {
  constructor(private readonly db: Sql) {}

  async list(query: AuditQuery): Promise<{ records: AuditRecord[]; nextCursor: string | null }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => (params.push(value), `$${params.length}`);
    if (query.subject !== undefined) {
      const subject = param(query.subject);
      where.push(`(subject = ${subject} or stream_id = ${subject})`);
    }
    if (query.types !== undefined) where.push(`event_type = any(${param(query.types)}::text[])`);
    if (query.from !== undefined) where.push(`occurred_at >= ${param(query.from.toISOString())}`);
    if (query.to !== undefined) where.push(`occurred_at < ${param(query.to.toISOString())}`);
    if (query.after !== undefined) where.push(`id > ${param(query.after)}`);
    const { rows } = await this.db.query<RecordRow>(
      `select ${COLUMNS} from audit_records ${where.length ? `where ${where.join(' and ')}` : ''} order by audit_records.id limit ${param(query.limit + 1)}`,
      params,
    );
    const records = rows.slice(0, query.limit).map(recordOf);
    const more = rows.length > query.limit;
    return { records, nextCursor: more ? String(records.at(-1)!.id) : null };
  }

  /** Walks the chain from its first record to the head, page by page; names the first broken record. */
  async verify(pageSize = 1000): Promise<ChainVerdict> {
    // Records up to the head committed with it; later appends are left to the next verification.
    const { rows: heads } = await this.db.query<{ last_id: string; last_hash: string }>(
      'select last_id::text as last_id, last_hash from audit_chain_head where singleton',
    );
    const head = { lastId: Number(heads[0]?.last_id ?? 0), lastHash: heads[0]?.last_hash ?? '' };
    const verifier = new ChainVerifier();
    for (let after = 0; ;) {
      const { rows } = await this.db.query<RecordRow>(
        `select ${COLUMNS} from audit_records where id > $1 and id <= $2 order by audit_records.id limit $3`,
        [after, head.lastId, pageSize],
      );
      if (rows.length === 0) break;
      const broken = verifier.check(rows.map(recordOf));
      if (broken) return broken;
      after = Number(rows.at(-1)!.id);
    }
    return verifier.finish(head);
  }
}
