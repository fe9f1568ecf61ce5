import { randomUUID } from 'node:crypto';
import { domainToASCII } from 'node:url';
import addressparser from 'nodemailer/lib/addressparser';
import { encodeWord, encodeWords, foldLines, isPlainText, quoteString } from 'nodemailer/lib/mime-funcs';
import type { EmailAddress, OutgoingEmail } from './mailer.ts';
import { encodeQuotedPrintable } from './quoted-printable.ts';

/**
 * Builds the RFC 822 message of an email in one synchronous pass, with nodemailer's own encoders
 * for the headers (encoded words, folding) and our quoted-printable for the bodies. Every email
 * has the same shape (a text and an HTML alternative), so nodemailer's general composer, a tree
 * of streams per message, is not needed: it cost most of the consumers' CPU (hundreds of µs per
 * email).
 */

/** An address with its domain in ASCII (punycode), as headers and the SMTP envelope carry it. */
export function asciiAddress(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 || isPlainText(address)
    ? address
    : `${address.slice(0, at + 1)}${domainToASCII(address.slice(at + 1))}`;
}

/** An address as a header writes it: the display name as nodemailer writes it (quoted, or an encoded word). */
export function formatAddress({ name, address }: EmailAddress): string {
  if (!name) return asciiAddress(address);
  const display = /^[\w ]*$/.test(name)
    ? name
    : /^[\x20-\x7e]*$/.test(name)
      ? quoteString(name)
      : encodeWord(name, 'Q', 52);
  return `${display} <${asciiAddress(address)}>`;
}

/** The sender configured as `Name <address>` (EMAIL_FROM), parsed once. */
export function parseSender(from: string): EmailAddress {
  const [first] = addressparser(from, { flatten: true });
  if (!first?.address) throw new Error(`EMAIL_FROM is not an address: ${from}`);
  return { name: first.name, address: first.address };
}

/** A header line, folded; a line break in a value would start a header of its own, so it is a space. */
const header = (key: string, value: string) => foldLines(`${key}: ${value.replace(/[\r\n]+/g, ' ')}`, 76);

/** A header value that may hold any text: non-ASCII words become encoded words. */
const unstructured = (value: string) => (isPlainText(value) ? value : encodeWords(value, 'Q', 52));

const part = (type: string, body: string) =>
  [
    `Content-Type: ${type}; charset=utf-8`,
    'Content-Transfer-Encoding: quoted-printable',
    '',
    encodeQuotedPrintable(body),
  ].join('\r\n');

/** The message as sent over SMTP and kept in the mailbox (CRLF line ends). */
export function composeMessage(email: OutgoingEmail, from: EmailAddress): Buffer {
  // Random, so no text in the bodies can end a part early.
  const boundary = `--_Tributary-${randomUUID()}`;
  const headers = [
    header('From', formatAddress(from)),
    header('To', formatAddress(email.to)),
    header('Subject', unstructured(email.subject)),
    header('Message-ID', email.messageId),
    header('Date', email.date.toUTCString().replace(/GMT/, '+0000')),
    ...Object.entries(email.headers).map(([key, value]) => header(key, unstructured(value))),
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative;\r\n boundary="${boundary}"`,
  ];
  const message = [
    ...headers,
    '',
    `--${boundary}`,
    part('text/plain', email.text),
    `--${boundary}`,
    part('text/html', email.html),
    `--${boundary}--`,
    '',
  ].join('\r\n');
  return Buffer.from(message, 'utf8');
}
