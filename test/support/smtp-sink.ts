import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** An email as the sink received it, decoded enough to check what a person would read. */
export interface ReceivedEmail {
  envelope: { from: string; to: string[] };
  raw: string;
  headers: Record<string, string>;
  messageId: string;
  subject: string;
  text: string;
  html: string;
}

const smtpError = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });

/**
 * A real SMTP server on loopback that keeps what it accepts. Recipients steer it:
 * `bounce-…` is refused for good (550 at RCPT TO) unless forgiven; `flaky-…` gets a 451 on the
 * first attempt of each message and is accepted on the next one.
 */
export class SmtpSink {
  readonly received: ReceivedEmail[] = [];
  /** Delivery attempts (DATA) per Message-ID, accepted or not. */
  readonly attempts = new Map<string, number>();
  private readonly forgiven = new Set<string>();
  private server: SMTPServer | undefined;
  private port = 0;

  static async start(): Promise<SmtpSink> {
    const sink = new SmtpSink();
    await sink.listen();
    return sink;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  forgive(address: string): void {
    this.forgiven.add(address.toLowerCase());
  }

  to(address: string): ReceivedEmail[] {
    return this.received.filter((email) => email.envelope.to.includes(address.toLowerCase()));
  }

  withMessageId(messageId: string): ReceivedEmail[] {
    return this.received.filter((email) => email.messageId === messageId);
  }

  /** Listens again on the same port (after `stop`). */
  async listen(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onRcptTo: (address, _session, callback) => {
        const to = address.address.toLowerCase();
        if (to.startsWith('bounce-') && !this.forgiven.has(to)) return callback(smtpError(550, 'No such user here'));
        callback();
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const email = parseEmail(Buffer.concat(chunks).toString('utf8'), {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((rcpt) => rcpt.address.toLowerCase()),
          });
          const attempt = (this.attempts.get(email.messageId) ?? 0) + 1;
          this.attempts.set(email.messageId, attempt);
          if (attempt === 1 && email.envelope.to.some((to) => to.startsWith('flaky-')))
            return callback(smtpError(451, 'Try again later'));
          this.received.push(email);
          callback(null, `queued as ${this.received.length}`);
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const decodeQuotedPrintable = (body: string): Buffer => {
  const text = body.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(text[i]!, 'utf8'));
  }
  return Buffer.from(bytes);
};

/** RFC 2047 encoded words (`=?UTF-8?Q?...?=`), adjacent ones joined. */
const decodeHeader = (value: string): string =>
  value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_match, _charset: string, encoding: string, encoded: string) =>
      encoding.toUpperCase() === 'B'
        ? Buffer.from(encoded, 'base64').toString('utf8')
        : decodeQuotedPrintable(encoded.replaceAll('_', ' ')).toString('utf8'),
    );

const splitHeaders = (raw: string): { headers: Record<string, string>; body: string } => {
  const end = raw.search(/\r?\n\r?\n/);
  const head = end === -1 ? raw : raw.slice(0, end);
  const body = end === -1 ? '' : raw.slice(end).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
};

const decodeBody = (headers: Record<string, string>, body: string): string => {
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body).toString('utf8');
  return body;
};

/** Just enough MIME for the emails the platform sends: one part, or multipart/alternative text + HTML. */
export function parseEmail(raw: string, envelope: ReceivedEmail['envelope'] = { from: '', to: [] }): ReceivedEmail {
  const { headers, body } = splitHeaders(raw);
  const parts: { type: string; content: string }[] = [];
  const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1];
  if (boundary) {
    for (const chunk of body.split(`--${boundary}`).slice(1)) {
      if (chunk.startsWith('--')) break;
      const part = splitHeaders(chunk.replace(/^\r?\n/, ''));
      parts.push({
        type: (part.headers['content-type'] ?? 'text/plain').split(';')[0]!.toLowerCase(),
        content: decodeBody(part.headers, part.body.replace(/\r?\n$/, '')),
      });
    }
  } else {
    parts.push({
      type: (headers['content-type'] ?? 'text/plain').split(';')[0]!.toLowerCase(),
      content: decodeBody(headers, body),
    });
  }
  return {
    envelope,
    raw,
    headers,
    messageId: headers['message-id'] ?? '',
    subject: decodeHeader(headers.subject ?? ''),
    text: (parts.find((part) => part.type === 'text/plain')?.content ?? '').replace(/\r\n/g, '\n'),
    html: (parts.find((part) => part.type === 'text/html')?.content ?? '').replace(/\r\n/g, '\n'),
  };
}
