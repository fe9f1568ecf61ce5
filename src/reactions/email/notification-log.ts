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
  to_address: string | null;
  subject: string | null;
  message_id: string;
  status: NotificationStatus;
  reason: string | null;
  transport: 'smtp' | 'mailbox' | null;
  delivery: string | null;
  created_at: Date;
}

const toNotification = (row: NotificationRow): Notification => ({
  id: Number(row.id),
  eventId: row.event_id,
  type: row.type,
  customerId: row.customer_id,
  to: row.to_address,
  subject: row.subject,
  messageId: row.message_id,
  status: row.status,
  reason: row.reason,
  transport: row.transport,
  delivery: row.delivery,
  createdAt: new Date(row.created_at),
});

export type NewNotification = Pick<Notification, 'eventId' | 'type' | 'customerId' | 'to' | 'subject' | 'messageId' | 'status' | 'reason' | 'transport'> & { createdAt: Date };

/** Records an email; null when one was already recorded for this event and type (nothing to send). */
export async function recordNotification(tx: Sql, notification: NewNotification): Promise<number | null> {
  const { rows } = await tx.query<{ id: number }>(
    `insert into notifications (event_id, type, customer_id, to_address, subject, message_id, status, reason, transport, created_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     on conflict (event_id, type) do nothing returning id`,
    [
      notification.eventId,
      notification.type,
      notification.customerId,
      notification.to,
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

/**
 * Records several emails in one statement; answers the ids of those recorded now, by event id
 * (an event whose email was already recorded has none: nothing to send).
 */
export async function recordNotifications(tx: Sql, notifications: readonly NewNotification[]): Promise<Map<string, number>> {
  if (notifications.length === 0) return new Map();
  const column = <T>(value: (notification: NewNotification) => T) => notifications.map(value);
  const { rows } = await tx.query<{ id: number; event_id: string }>(
    `insert into notifications (event_id, type, customer_id, to_address, subject, message_id, status, reason, transport, created_at)
     select * from unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::timestamptz[])
     on conflict (event_id, type) do nothing returning id, event_id::text as event_id`,
    [
      column((n) => n.eventId),
      column((n) => n.type),
      column((n) => n.customerId),
      column((n) => n.to),
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
  await tx.query('update notifications n set delivery = d.delivery from unnest($1::int8[], $2::text[]) as d(id, delivery) where n.id = d.id', [
    [...deliveries.keys()],
    [...deliveries.values()],
  ]);
}

/** Forgets notifications whose email could not be sent (the runner retries their events). */
export async function dropNotifications(tx: Sql, ids: readonly number[]): Promise<void> {
  if (ids.length > 0) await tx.query('delete from notifications where id = any($1::int8[])', [ids]);
}

export async function recordDelivery(tx: Sql, id: number, delivery: string): Promise<void> {
  await tx.query('update notifications set delivery = $2 where id = $1', [id, delivery]);
}

export interface NotificationQuery {
  to?: string;
  type?: EmailType;
  status?: NotificationStatus;
  limit: number;
}

/** The log, newest first. */
export async function listNotifications(sql: Sql, query: NotificationQuery): Promise<Notification[]> {
  const { rows } = await sql.query<NotificationRow>(
    `select * from notifications
     where ($1::text is null or lower(to_address) = lower($1)) and ($2::text is null or type = $2) and ($3::text is null or status = $3)
     order by id desc limit $4`,
    [query.to ?? null, query.type ?? null, query.status ?? null, query.limit],
  );
  return rows.map(toNotification);
}

/**
 * Erasure: the log keeps that an email went out, not to whom. For the compliance check to call
 * in the transaction that erases the customer (the log's addresses are outside crypto-shredding).
 */
export async function forgetRecipient(tx: Sql, customerId: string): Promise<number> {
  const { rowCount } = await tx.query('update notifications set to_address = null where customer_id = $1 and to_address is not null', [customerId]);
  return rowCount;
}
