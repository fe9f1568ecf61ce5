import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Delivery, Mailer, OutgoingEmail } from './mailer.ts';

/** The local mailbox's folder under the data directory. */
export const mailboxDir = (dataDir: string) => join(dataDir, 'mailbox');

/** The file of an email in the mailbox: named after its Message-ID, so a resend overwrites it. */
export const mailboxFile = (messageId: string) => `${messageId.replace(/^<|>$/g, '').replace(/[^\w.@-]/g, '_')}.eml`;

/**
 * The embedded default: each email as an RFC 822 `.eml` file (built by nodemailer, CRLF line
 * ends) in `DATA_DIR/mailbox`, readable with any mail client.
 */
export class MailboxMailer implements Mailer {
  readonly kind = 'mailbox' as const;
  private readonly transport;
  private readonly dir: string;
  private made: Promise<unknown> | undefined;

  constructor(options: { dataDir: string; from: string }) {
    this.dir = mailboxDir(options.dataDir);
    this.transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' }, { from: options.from });
  }

  async send(email: OutgoingEmail): Promise<Delivery> {
    const { message } = await this.transport.sendMail({ ...email });
    const file = mailboxFile(email.messageId);
    // Made once (and again only if that failed): not a system call per email.
    await (this.made ??= mkdir(this.dir, { recursive: true }).catch((error: unknown) => {
      this.made = undefined;
      throw error;
    }));
    // Written aside and renamed: a reader never sees half an email, even after a crash.
    const partial = join(this.dir, `.${file}.partial`);
    await writeFile(partial, message as Buffer);
    await rename(partial, join(this.dir, file));
    return { transport: 'mailbox', detail: file };
  }
}
