import type { Clock } from '../../kernel/clock.ts';
import { emailDigest } from '../../kernel/crypto/keyed-hash.ts';
import { keyOf, sealWith } from '../../kernel/crypto/personal-data.ts';
import { scrubAddresses } from '../../kernel/crypto/scrub.ts';
import type { HandlerContext } from '../../kernel/consumers/consumer.ts';
import type { EventStore } from '../../kernel/store/event-store.ts';
import type { RecordedEvent } from '../../kernel/store/envelope.ts';
import type { Mailer } from './mailer.ts';
import { recordDelivery, recordNotification, type EmailType } from './notification-log.ts';
import { findRecipient, type Recipient } from './recipients.ts';
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

/**
 * Sends the email an event causes, at most once per (event, type) once committed.
 *
 * The handler's transaction commits the inbox record and the notification row together, so after
 * the commit neither a redelivery nor a replay sends again. The send itself happens inside the
 * transaction, before the commit: a failed send rolls everything back and the runner retries. A
 * crash (or failed commit) between a successful send and the commit is the one window where the
 * event is processed again and the email sent twice; it carries the same Message-ID, which lets
 * the receiving side recognise the duplicate (and the mailbox overwrites the same file).
 * On PGlite (one connection) the open transaction holds the database while SMTP answers:
 * SMTP_TIMEOUT_MS bounds that wait.
 */
export async function sendOnce(
  deps: EmailDeps,
  { tx, log }: HandlerContext,
  request: { event: RecordedEvent; type: EmailType; customerId: string; render(recipient: Extract<Recipient, { reachable: true }>): Promise<RenderedEmail> },
): Promise<void> {
  const { event, type, customerId } = request;
  const messageId = messageIdOf(event.id);
  const recipient = await findRecipient(deps.store, tx, customerId);
  const base = { eventId: event.id, type, customerId, messageId, createdAt: deps.clock.now() };
  if (!recipient.reachable) {
    await recordNotification(tx, { ...base, to: null, subject: null, status: 'suppressed', reason: recipient.reason, transport: null });
    log.info({ customerId, reason: recipient.reason, emailType: type }, 'email suppressed');
    return;
  }
  // The recipient was just opened with this key, so it is there: the address is kept sealed with it.
  const key = (await keyOf(tx, customerId))!;
  const sealer = { customerId, seal: (clear: Buffer) => sealWith(key, customerId, clear) };
  const to = { sealed: sealer.seal(Buffer.from(recipient.email, 'utf8')), digest: await emailDigest(tx, recipient.email) };
  const email = await request.render(recipient);
  const id = await recordNotification(tx, { ...base, to, subject: email.subject, status: 'sent', reason: null, transport: deps.mailer.kind });
  if (id === null) {
    log.info({ customerId, emailType: type }, 'email already sent for this event');
    return;
  }
  const delivery = await deps.mailer.send({
    messageId,
    to: { name: recipient.name, address: recipient.email },
    subject: email.subject,
    text: email.text,
    html: email.html,
    date: deps.clock.now(),
    headers: { 'X-Tributary-Event-Id': event.id, 'X-Tributary-Email': type },
  }, sealer);
  // An SMTP reply may name the recipient; a mailbox file name is the Message-ID's.
  await recordDelivery(tx, id, delivery.transport === 'smtp' ? scrubAddresses(delivery.detail) : delivery.detail);
  log.info({ customerId, emailType: type, transport: delivery.transport }, 'email sent');
}
