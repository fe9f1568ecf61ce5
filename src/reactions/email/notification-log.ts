import { openTexts, type Sealed } from '../../kernel/crypto/personal-data.ts';
import type { Sql } from '../../kernel/db/database.ts';

/** The email consumers, which are also the types of the emails they send. */
export const EMAIL_TYPES = ['welcome-email', 'payment-receipt', 'renewal-notice'] as const;
export type EmailType = (typeof EMAIL_TYPES)[number];

export type NotificationStatus = 'sent' | 'suppressed';

export interface Notification {
  id: number;
  eventId: string;
  type: EmailType;
  customerId: string;
  /** The address, opened at the edge; null once the customer is erased (or for a suppressed email). */
  to: string | null;
  subject: string | null;
  messageId: string;
  status: NotificationStatus;
  /** Why it was suppressed (`customer_deleted`, `unknown_customer`). */
  reason: string | null;
  transport: 'smtp' | 'mailbox' | null;
  /** The SMTP server's reply, or the mailbox file. */
  delivery: string | null;
  createdAt: Date;
}

interface NotificationRow {
  id: number;
  event_id: string;
  type: EmailType;
  customer_id: string;
  /** The address sealed with the customer's key (JSON text). */
  to_address: string | null;
  subject: string | null;
  message_id: string;
  status: NotificationStatus;
  reason: string | null;
  transport: 'smtp' | 'mailbox' | null;
  delivery: string | null;
  created_at: Date;
}

const toNotification = (row: NotificationRow, to: string | null): Notification => ({
  id: Number(row.id),
  eventId: row.event_id,
  type: row.type,
  customerId: row.customer_id,
  to,
  subject: row.subject,
  messageId: row.message_id,
  status: row.status,
  reason: row.reason,
  transport: row.transport,
  delivery: row.delivery,
  createdAt: new Date(row.created_at),
});

export type NewNotification = Pick<
  Notification,
  'eventId' | 'type' | 'customerId' | 'subject' | 'messageId' | 'status' | 'reason' | 'transport'
> & {
  /** The address sealed with the customer's key, and its keyed hash (the `?to=` lookup). */
  to: { sealed: Sealed; digest: string } | null;
  createdAt: Date;
};

/**
 * Records several emails in one statement; answers the ids of those recorded now, by event id
 * (an event whose email was already recorded has none: nothing to send).
 */
export async function recordNotifications(
  tx: Sql,
  notifications: readonly NewNotification[],
): Promise<Map<string, number>> {
  if (notifications.length === 0) return new Map();
  const column = <T>(value: (notification: NewNotification) => T) => notifications.map(value);
  const { rows } = await tx.query<{ id: number; event_id: string }>(
    `insert into notifications
       (event_id, type, customer_id, to_address, to_digest, subject, message_id, status, reason, transport, created_at)
     select * from unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
       $9::text[], $10::text[], $11::timestamptz[])
     on conflict (event_id, type) do nothing returning id, event_id::text as event_id`,
    [
      column((n) => n.eventId),
      column((n) => n.type),
      column((n) => n.customerId),
      column((n) => (n.to ? JSON.stringify(n.to.sealed) : null)),
      column((n) => n.to?.digest ?? null),
      column((n) => n.subject),
      column((n) => n.messageId),
      column((n) => n.status),
      column((n) => n.reason),
      column((n) => n.transport),
      column((n) => n.createdAt.toISOString()),
    ],
  );
  return new Map(rows.map((row) => [row.event_id, Number(row.id)]));
}

/** The delivery of several emails (SMTP reply or mailbox file), by notification id, in one statement. */
export async function recordDeliveries(tx: Sql, deliveries: ReadonlyMap<number, string>): Promise<void> {
  if (deliveries.size === 0) return;
  await tx.query(
    'update notifications n set delivery = d.delivery from unnest($1::int8[], $2::text[]) as d(id, delivery) where n.id = d.id',
    [[...deliveries.keys()], [...deliveries.values()]],
  );
}

/** Forgets notifications whose email could not be sent (the runner retries their events). */
export async function dropNotifications(tx: Sql, ids: readonly number[]): Promise<void> {
  if (ids.length > 0) await tx.query('delete from notifications where id = any($1::int8[])', [ids]);
}

export interface NotificationQuery {
  /** The keyed hash of the recipient asked for. */
  toDigest?: string;
  type?: EmailType;
  status?: NotificationStatus;
  limit: number;
}

/** The log, newest first, its addresses opened with their customers' keys (`sql`: where the keys are). */
export async function listNotifications(sql: Sql, query: NotificationQuery): Promise<Notification[]> {
  const { rows } = await sql.query<NotificationRow>(
    `select * from notifications
     where ($1::text is null or to_digest = $1) and ($2::text is null or type = $2) and ($3::text is null or status = $3)
     order by id desc limit $4`,
    [query.toDigest ?? null, query.type ?? null, query.status ?? null, query.limit],
  );
  const sealed = (row: NotificationRow) => (row.to_address ? (JSON.parse(row.to_address) as Sealed) : null);
  const to = await openTexts(
    sql,
    rows.map((row) => ({ customerId: row.customer_id, sealed: sealed(row) })),
  );
  return rows.map((row, i) => toNotification(row, to[i]!));
}

/** What a customer may read of an email sent to them: no address, no delivery details. */
export type CustomerNotification = Pick<Notification, 'id' | 'type' | 'subject' | 'status' | 'createdAt'>;

/** One customer's emails, newest first; the addresses stay sealed (the caller knows whose they are). */
export async function listCustomerNotifications(
  sql: Sql,
  customerId: string,
  limit: number,
): Promise<CustomerNotification[]> {
  const { rows } = await sql.query<Pick<NotificationRow, 'id' | 'type' | 'subject' | 'status' | 'created_at'>>(
    `select id, type, subject, status, created_at from notifications
     where customer_id = $1 order by id desc limit $2`,
    [customerId, limit],
  );
  return rows.map((row) => ({
    id: Number(row.id),
    type: row.type,
    subject: row.subject,
    status: row.status,
    createdAt: new Date(row.created_at),
  }));
}

/** One entry of the log by id (its address opened), or null. */
export async function findNotification(sql: Sql, id: number): Promise<Notification | null> {
  const { rows } = await sql.query<NotificationRow>('select * from notifications where id = $1', [id]);
  const row = rows[0];
  if (!row) return null;
  const sealed = row.to_address ? (JSON.parse(row.to_address) as Sealed) : null;
  const [to] = await openTexts(sql, [{ customerId: row.customer_id, sealed }]);
  return toNotification(row, to ?? null);
}

/**
 * Erasure: the log keeps that an email went out, not to whom. The address was sealed with the
 * shredded key already; the hash goes too, so nothing links the entries to an address any more.
 * Answers how many entries each customer had forgotten.
 */
export async function forgetRecipients(tx: Sql, customerIds: readonly string[]): Promise<Map<string, number>> {
  const { rows } = await tx.query<{ customer_id: string }>(
    `update notifications set to_address = null, to_digest = null
     where customer_id = any($1::uuid[]) and (to_address is not null or to_digest is not null) returning customer_id`,
    [customerIds],
  );
  const forgotten = new Map<string, number>();
  for (const { customer_id: id } of rows) forgotten.set(id, (forgotten.get(id) ?? 0) + 1);
  return forgotten;
}
