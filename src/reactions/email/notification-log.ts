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

export type NewNotification = Pick<Notification, 'eventId' | 'type' | 'customerId' | 'subject' | 'messageId' | 'status' | 'reason' | 'transport'> & {
  /** The address sealed with the customer's key, and its keyed hash (the `?to=` lookup). */
  to: { sealed: Sealed; digest: string } | null;
  createdAt: Date;
};

/** Records an email; null when one was already recorded for this event and type (nothing to send). */
export async function recordNotification(tx: Sql, notification: NewNotification): Promise<number | null> {
  const { rows } = await tx.query<{ id: number }>(
    `insert into notifications (event_id, type, customer_id, to_address, to_digest, subject, message_id, status, reason, transport, created_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     on conflict (event_id, type) do nothing returning id`,
    [
      notification.eventId,
      notification.type,
      notification.customerId,
      notification.to ? JSON.stringify(notification.to.sealed) : null,
      notification.to?.digest ?? null,
      notification.subject,
      notification.messageId,
      notification.status,
      notification.reason,
      notification.transport,
      notification.createdAt,
    ],
  );
  return rows[0] ? Number(rows[0].id) : null;
}

export async function recordDelivery(tx: Sql, id: number, delivery: string): Promise<void> {
  await tx.query('update notifications set delivery = $2 where id = $1', [id, delivery]);
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
  const to = await openTexts(sql, rows.map((row) => ({ customerId: row.customer_id, sealed: sealed(row) })));
  return rows.map((row, i) => toNotification(row, to[i]!));
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
 */
export async function forgetRecipient(tx: Sql, customerId: string): Promise<number> {
  const { rowCount } = await tx.query(
    'update notifications set to_address = null, to_digest = null where customer_id = $1 and (to_address is not null or to_digest is not null)',
    [customerId],
  );
  return rowCount;
}
