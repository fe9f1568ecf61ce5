import type { Config } from '../../kernel/config.ts';
import type { Sealed } from '../../kernel/crypto/personal-data.ts';
import { MailboxMailer } from './mailbox-mailer.ts';
import { SmtpMailer } from './smtp-mailer.ts';

export interface EmailAddress {
  name: string;
  address: string;
}

/** One email, ready to send: the same message whichever transport carries it. */
export interface OutgoingEmail {
  /** `<eventId@tributary>`: a resend after a crash carries the same id, so receivers can drop it. */
  messageId: string;
  to: EmailAddress;
  subject: string;
  text: string;
  html: string;
  date: Date;
  headers: Record<string, string>;
}

/** Where the email went: the SMTP server's final reply, or the mailbox file. */
export interface Delivery {
  transport: 'smtp' | 'mailbox';
  detail: string;
}

/**
 * Seals what a mailer keeps (the mailbox's files) with the recipient's key: the message carries
 * the address and name, so nothing may stay on disk that erasure could not make unreadable.
 */
export interface Sealer {
  customerId: string;
  seal(clear: Buffer): Sealed;
}

/**
 * Sends an email. Throws `PermanentError` when the message can never be delivered (the event is
 * dead-lettered) and any other error when a later attempt may succeed (the runner retries).
 */
export interface Mailer {
  readonly kind: Delivery['transport'];
  send(email: OutgoingEmail, sealer?: Sealer): Promise<Delivery>;
  /** Closes what the mailer keeps open (SMTP connections). */
  close?(): Promise<void>;
}

/** SMTP when `SMTP_URL` is set; otherwise the local mailbox in `DATA_DIR/mailbox`. */
export const createMailer = (config: Config): Mailer =>
  config.email.smtpUrl
    ? new SmtpMailer({ url: config.email.smtpUrl, from: config.email.from, timeoutMs: config.email.smtpTimeoutMs })
    : new MailboxMailer({ dataDir: config.dataDir, from: config.email.from });
