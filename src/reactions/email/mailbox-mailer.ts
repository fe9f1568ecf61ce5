import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { keyOf, openWith, type Sealed } from '../../kernel/crypto/personal-data.ts';
import type { Sql } from '../../kernel/db/database.ts';
import { composeMessage, parseSender } from './compose-message.ts';
import type { Delivery, EmailAddress, Mailer, OutgoingEmail, Sealer } from './mailer.ts';
import { MailboxWriter } from './mailbox-writer.ts';

/** The local mailbox's folder under the data directory. */
export const mailboxDir = (dataDir: string) => join(dataDir, 'mailbox');

/** The file of an email in the mailbox: named after its Message-ID, so a resend overwrites it. */
export const mailboxFile = (messageId: string) =>
  `${messageId.replace(/^<|>$/g, '').replace(/[^\w.@-]/g, '_')}.eml.sealed`;

/** What a mailbox file holds: the RFC 822 message sealed with its recipient's key. */
interface MailboxEnvelope {
  customerId: string;
  message: Sealed;
}

/**
 * The embedded default: each email as an RFC 822 message (CRLF line ends)
 * sealed with the recipient's key, one file per message in `DATA_DIR/mailbox`. The admin reads
 * it opened at `GET /emails/{id}/message` (an `.eml` any mail client reads) until the customer
 * is erased; after that the file is unreadable ciphertext.
 */
export class MailboxMailer implements Mailer {
  readonly kind = 'mailbox' as const;
  private readonly from: EmailAddress;
  private readonly dir: string;
  private readonly writer = new MailboxWriter();

  constructor(options: { dataDir: string; from: string }) {
    this.dir = mailboxDir(options.dataDir);
    this.from = parseSender(options.from);
  }

  async send(email: OutgoingEmail, sealer?: Sealer): Promise<Delivery> {
    if (!sealer) throw new Error("the mailbox keeps only sealed messages: send needs the recipient's sealer");
    const file = mailboxFile(email.messageId);
    const message = composeMessage(email, this.from);
    const envelope: MailboxEnvelope = { customerId: sealer.customerId, message: sealer.seal(message) };
    // Written aside and renamed (a reader never sees half an email, even after a crash), off this thread.
    await this.writer.write({
      partial: join(this.dir, `.${file}.partial`),
      path: join(this.dir, file),
      content: JSON.stringify(envelope),
    });
    return { transport: 'mailbox', detail: file };
  }

  async close(): Promise<void> {
    await this.writer.close();
  }
}

/**
 * A mailbox file's message opened with its customer's key (`sql`: where the keys are); null when
 * the file is missing or the customer was erased since.
 */
export async function readMailboxMessage(sql: Sql, dataDir: string, file: string): Promise<Buffer | null> {
  const content = await readFile(join(mailboxDir(dataDir), basename(file)), 'utf8').catch(() => null);
  if (content === null) return null;
  const envelope = JSON.parse(content) as MailboxEnvelope;
  const key = await keyOf(sql, envelope.customerId);
  return key ? openWith(key, envelope.customerId, envelope.message) : null;
}
