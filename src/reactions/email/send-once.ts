import type { Clock } from '../../kernel/clock.ts';
import { emailDigester } from '../../kernel/crypto/keyed-hash.ts';
import { keysOf, sealWith } from '../../kernel/crypto/personal-data.ts';
import { scrubAddresses } from '../../kernel/crypto/scrub.ts';
import { defineConsumer, type BatchFailures, type ConsumerDefinition } from '../../kernel/consumers/consumer.ts';
import type { Sql } from '../../kernel/db/database.ts';
import type { Logger } from '../../kernel/logger.ts';
import { traceIdOf } from '../../kernel/tracing.ts';
import type { EventStore } from '../../kernel/store/event-store.ts';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';
import type { Mailer, OutgoingEmail, Sealer } from './mailer.ts';
import {
  dropNotifications,
  recordDeliveries,
  recordNotifications,
  type EmailType,
  type NewNotification,
} from './notification-log.ts';
import { findRecipients, type Recipient } from './recipients.ts';
import type { RenderedEmail } from './templates.ts';

/** What the email consumers share. */
export interface EmailDeps {
  store: EventStore;
  clock: Clock;
  mailer: Mailer;
  /** A plan's name and interval from the catalog; undefined for a plan it no longer lists. */
  plan(planId: string): Promise<{ name: string; interval: 'month' | 'year' } | undefined>;
}

/** The Message-ID of the email an event causes: the same on every attempt. */
export const messageIdOf = (eventId: string) => `<${eventId}@tributary>`;

export type Reachable = Extract<Recipient, { reachable: true }>;

/** One kind of email: whom an event concerns, what a batch needs read once, and the message. */
export interface EmailKind<Prepared> {
  type: EmailType;
  topics: string[];
  customerIdOf(event: RecordedEvent): string;
  /** Reads what rendering the batch's emails needs, in a few statements (streams, invoice numbers). */
  prepare(tx: Sql, events: readonly RecordedEvent[]): Promise<Prepared>;
  render(event: RecordedEvent, recipient: Reachable, prepared: Prepared): Promise<RenderedEmail>;
}

/**
 * Sends the emails a batch of events causes, at most once per (event, type) once committed.
 *
 * The handler's transaction commits the inbox records and the notification rows together, so
 * after the commit neither a redelivery nor a replay sends again. The sends happen inside the
 * transaction, before the commit, all at once over the mailer's pooled connections: an email the
 * server refuses has its notification row deleted and is reported, and the runner commits the
 * others and retries that one alone. A crash (or failed commit) between the sends and the commit
 * is the one window where events are processed again and emails sent twice; they carry the same
 * Message-ID, which lets the receiving side recognise the duplicate (and the mailbox overwrites
 * the same file). On PGlite (one connection) the open transaction holds the database while SMTP
 * answers: SMTP_TIMEOUT_MS bounds that wait.
 */
export async function sendEmails<Prepared>(
  deps: EmailDeps,
  kind: EmailKind<Prepared>,
  events: readonly RecordedEvent[],
  { tx, log }: { tx: Sql; log: Logger },
): Promise<Map<string, unknown>> {
  // One read of the keys: they open the addresses, then seal what the log and the mailbox keep of them.
  const keys = await keysOf(tx, [...new Set(events.map(kind.customerIdOf))]);
  const recipients = await findRecipients(deps.store, tx, events.map(kind.customerIdOf), keys);
  const reachable = events.filter((event) => recipients.get(kind.customerIdOf(event))!.reachable);
  const prepared = await kind.prepare(tx, reachable);
  const batch = { recipients, keys, digest: await emailDigester(tx), now: deps.clock.now() };
  const notifications: NewNotification[] = [];
  const outgoing = new Map<string, Outgoing>();
  for (const event of events) {
    const { notification, email } = await composeEmail(deps, kind, event, prepared, batch);
    notifications.push(notification);
    if (email) outgoing.set(event.id, email);
    else
      log.info(
        { customerId: notification.customerId, reason: notification.reason, email: kind.type },
        'email suppressed',
      );
  }
  const recorded = await recordNotifications(tx, notifications);
  const { deliveries, failures, failed } = await deliver(deps.mailer, kind.type, outgoing, recorded, log);
  await dropNotifications(tx, failed);
  await recordDeliveries(tx, deliveries);
  if (deliveries.size > 0)
    log.info({ email: kind.type, sent: deliveries.size, transport: deps.mailer.kind }, 'emails sent');
  // A batch's line names no event: each email's own line carries its event's trace (followed end to end).
  if (log.isLevelEnabled('debug'))
    for (const event of events)
      if (deliveries.has(recorded.get(event.id) ?? -1))
        log.debug(
          {
            eventId: event.id,
            eventType: event.type,
            traceId: traceIdOf(event.metadata.traceparent),
            email: kind.type,
          },
          'email sent',
        );
  return failures;
}

/** An email ready to go, with what seals the copy a mailer keeps. */
interface Outgoing {
  email: OutgoingEmail;
  sealer: Sealer;
}

/** What every email of a batch shares. */
interface EmailBatch {
  recipients: ReadonlyMap<string, Recipient>;
  keys: ReadonlyMap<string, Buffer>;
  digest: (email: string) => string;
  now: Date;
}

/** The log entry of an event's email and, unless it is suppressed, the message to send. */
async function composeEmail<Prepared>(
  deps: EmailDeps,
  kind: EmailKind<Prepared>,
  event: RecordedEvent,
  prepared: Prepared,
  { recipients, keys, digest, now }: EmailBatch,
): Promise<{ notification: NewNotification; email?: Outgoing }> {
  const customerId = kind.customerIdOf(event);
  const recipient = recipients.get(customerId)!;
  const base = { eventId: event.id, type: kind.type, customerId, messageId: messageIdOf(event.id), createdAt: now };
  if (!recipient.reachable) {
    const suppressed = { to: null, subject: null, status: 'suppressed', transport: null } as const;
    return { notification: { ...base, ...suppressed, reason: recipient.reason } };
  }
  const rendered = await kind.render(event, recipient, prepared);
  // Addresses are kept sealed with their customer's key (it opened them just now, so it is there) and hashed.
  const key = keys.get(customerId)!;
  const sealer: Sealer = { customerId, seal: (clear) => sealWith(key, customerId, clear) };
  const to = { sealed: sealer.seal(Buffer.from(recipient.email, 'utf8')), digest: digest(recipient.email) };
  const notification: NewNotification = {
    ...base,
    to,
    subject: rendered.subject,
    status: 'sent',
    reason: null,
    transport: deps.mailer.kind,
  };
  const email: OutgoingEmail = {
    messageId: base.messageId,
    to: { name: recipient.name, address: recipient.email },
    ...rendered,
    date: now,
    headers: { 'X-Tributary-Event-Id': event.id, 'X-Tributary-Email': kind.type },
  };
  return { notification, email: { email, sealer } };
}

/**
 * Sends the emails recorded just now, all at once (the mailer's pool spreads them over its
 * connections): their deliveries by notification id, and the failures by event id.
 */
async function deliver(
  mailer: Mailer,
  type: EmailType,
  outgoing: ReadonlyMap<string, Outgoing>,
  recorded: ReadonlyMap<string, number>,
  log: Logger,
): Promise<{ deliveries: Map<number, string>; failures: Map<string, unknown>; failed: number[] }> {
  const deliveries = new Map<number, string>();
  const failures = new Map<string, unknown>();
  const failed: number[] = [];
  await Promise.all(
    [...outgoing].map(async ([eventId, { email, sealer }]) => {
      const id = recorded.get(eventId);
      if (id === undefined) return log.info({ eventId, email: type }, 'email already sent for this event');
      try {
        const delivery = await mailer.send(email, sealer);
        // An SMTP reply may name the recipient; a mailbox file name is the Message-ID's.
        deliveries.set(id, delivery.transport === 'smtp' ? scrubAddresses(delivery.detail) : delivery.detail);
      } catch (error) {
        failures.set(eventId, error);
        failed.push(id);
      }
    }),
  );
  return { deliveries, failures, failed };
}

/**
 * The consumer of one kind of email. A batch sends its emails together (failures reported to the
 * runner, which retries them alone); a single event's failure throws, so the runner retries it.
 */
export const emailConsumer = <Prepared>(deps: EmailDeps, kind: EmailKind<Prepared>): ConsumerDefinition =>
  defineConsumer({
    name: kind.type,
    topics: kind.topics,
    async handle(event, { tx, log }) {
      const failures = await sendEmails(deps, kind, [event], { tx, log });
      for (const error of failures.values()) throw error;
    },
    handleBatch: (events, { tx, log }): Promise<BatchFailures> => sendEmails(deps, kind, events, { tx, log }),
  });
