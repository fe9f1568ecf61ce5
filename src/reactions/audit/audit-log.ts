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
 * writes the inbox). The head row lock makes concurrent writers take turns; an event already in
 * the chain (a replay past the inbox) adds nothing. Returns the new record, or null.
 */
export async function appendAuditRecord(tx: Sql, event: RecordedEvent): Promise<AuditRecord | null> {
  const { rows: heads } = await tx.query<{ last_id: string; last_hash: string }>(
    'select last_id::text as last_id, last_hash from audit_chain_head where singleton for update',
  );
  const head = heads[0];
  if (!head) throw new Error('audit_chain_head has no row: the audit migration did not run');
  const { rows: existing } = await tx.query('select 1 from audit_records where event_id = $1', [event.id]);
  if (existing.length > 0) return null;
  const entry: AuditEntry = {
    id: Number(head.last_id) + 1,
    eventId: event.id,
    eventType: event.type,
    subject: auditSubject(event),
    streamId: event.streamId,
    actor: event.metadata.actor,
    correlationId: event.metadata.correlationId,
    occurredAt: event.occurredAt.toISOString(),
    summary: auditSummary(event),
  };
  const record: AuditRecord = { ...entry, prevHash: head.last_hash, hash: chainHash(head.last_hash, entry) };
  await tx.query(
    `insert into audit_records (id, event_id, event_type, subject, stream_id, actor, correlation_id, occurred_at, summary, prev_hash, hash)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [record.id, record.eventId, record.eventType, record.subject, record.streamId, record.actor, record.correlationId, record.occurredAt, record.summary, record.prevHash, record.hash],
  );
  await tx.query('update audit_chain_head set last_id = $1, last_hash = $2 where singleton', [record.id, record.hash]);
  return record;
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
    const { rows: heads } = await this.db.query<{ last_id: string; last_hash: string }>('select last_id::text as last_id, last_hash from audit_chain_head where singleton');
    const head = { lastId: Number(heads[0]?.last_id ?? 0), lastHash: heads[0]?.last_hash ?? '' };
    const verifier = new ChainVerifier();
    for (let after = 0; ; ) {
      const { rows } = await this.db.query<RecordRow>(`select ${COLUMNS} from audit_records where id > $1 and id <= $2 order by audit_records.id limit $3`, [after, head.lastId, pageSize]);
      if (rows.length === 0) break;
      const broken = verifier.check(rows.map(recordOf));
      if (broken) return broken;
      after = Number(rows.at(-1)!.id);
    }
    return verifier.finish(head);
  }
}
