import type { NodemailerError } from 'nodemailer';
import { PermanentError } from '../../kernel/consumers/permanent-error.ts';
import { scrubAddresses } from '../../kernel/crypto/scrub.ts';
import { asciiAddress, composeMessage, parseSender } from './compose-message.ts';
import type { Delivery, EmailAddress, Mailer, OutgoingEmail } from './mailer.ts';

/** A 5xx reply (503 aside: a bad command sequence, fine on a new connection) or an address no server would take. */
export function isPermanentSmtpFailure(error: NodemailerError): boolean {
  if (error.permanent !== undefined) return error.permanent;
  if (error.responseCode !== undefined)
    return error.responseCode >= 500 && error.responseCode < 600 && error.responseCode !== 503;
  return error.code === 'EENVELOPE';
}

/**
 * Connections kept open to the SMTP server: a batch's emails go out over them at once. Each email
 * is a few round trips (MAIL, RCPT, DATA): with 10 the server always has work while replies travel.
 */
export const SMTP_POOL_SIZE = 10;

type SmtpOptions = { url: string; from: string; timeoutMs: number; poolSize?: number };

/** The pool of kept-alive connections (each reused for any number of messages; one that fails is replaced). */
async function openPool({ url, poolSize, timeoutMs }: SmtpOptions) {
  const { default: nodemailer } = await import('nodemailer');
  return nodemailer.createTransport({
    url,
    pool: true,
    maxConnections: poolSize ?? SMTP_POOL_SIZE,
    maxMessages: Infinity,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
}

/**
 * Sends over SMTP with nodemailer, on a pool of kept-alive connections, closed by `close()`.
 * nodemailer is loaded with the first email: a start, or a process that sends none, does without it.
 */
export class SmtpMailer implements Mailer {
  readonly kind = 'smtp' as const;
  private pool: ReturnType<typeof openPool> | undefined;
  private readonly from: EmailAddress;

  constructor(private readonly options: SmtpOptions) {
    this.from = parseSender(options.from);
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    (await pool)?.close();
  }

  async send(email: OutgoingEmail): Promise<Delivery> {
    const transport = await (this.pool ??= openPool(this.options));
    try {
      // Composed here and sent as is: nodemailer's own composer costs several times more CPU.
      const info = await transport.sendMail({
        envelope: { from: asciiAddress(this.from.address), to: [asciiAddress(email.to.address)] },
        messageId: email.messageId, // the raw message's own: spares nodemailer making one up
        raw: composeMessage(email, this.from),
      });
      return { transport: 'smtp', detail: info.response };
    } catch (error) {
      const failure = error as NodemailerError;
      // The reply names the recipient (`550 <ann@example.com>: ...`); the error goes to logs and dead letters.
      const reply = scrubAddresses(failure.response ?? failure.message);
      // Permanent: retrying gets the same answer, so the event goes to the dead-letter topic now.
      if (isPermanentSmtpFailure(failure))
        throw new PermanentError(`SMTP refused the email ${email.messageId} for good: ${reply}`, { cause: error });
      // Transient (4xx, refused or dropped connection, timeout): the runner retries with backoff.
      throw new Error(`SMTP could not take the email ${email.messageId} now: ${reply}`, { cause: error });
    }
  }
}
