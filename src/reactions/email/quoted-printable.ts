/**
 * Quoted-printable (RFC 2045, section 6.7) of a text body, in one pass over its UTF-8 bytes.
 * Printable ASCII goes as it is; `=`, control characters, bytes of non-ASCII characters and a
 * space or tab that would end a line are escaped (`=XX`); a line break (`\n` or `\r\n`) is a hard
 * CRLF; lines are broken softly (`=` CRLF) to at most 76 characters, never inside an escape.
 *
 * nodemailer's encoder builds its result a character at a time and then wraps it with regular
 * expressions: composing an email made about 35 kB of garbage, most of it here. This one writes
 * into buffers it keeps, and makes one string.
 */

/** Characters on a line before its soft break's `=` (76 with it). */
const LINE = 75;
const HEX = Buffer.from('0123456789ABCDEF', 'latin1');
const EQUALS = 61;
const CR = 13;
const LF = 10;

// Reused by every call (the function is synchronous): grown when a text needs more.
let bytes = Buffer.allocUnsafe(8 * 1024);
let out = Buffer.allocUnsafe(32 * 1024);

export function encodeQuotedPrintable(text: string): string {
  const size = Buffer.byteLength(text, 'utf8');
  if (bytes.length < size) bytes = Buffer.allocUnsafe(size);
  // Every byte escaped (3 characters), a soft break (3) every 25 of them, and the last break.
  if (out.length < 4 * size + 3) out = Buffer.allocUnsafe(4 * size + 3);
  const n = bytes.write(text, 0, 'utf8');
  let o = 0;
  let column = 0;
  for (let i = 0; i < n; i++) {
    const byte = bytes[i]!;
    // The buffer holds earlier texts past `n`: every look ahead checks the end first.
    if (byte === LF || (byte === CR && i + 1 < n && bytes[i + 1] === LF)) {
      if (byte === CR) i++;
      out[o++] = CR;
      out[o++] = LF;
      column = 0;
      continue;
    }
    let literal: boolean;
    if (byte >= 33 && byte <= 126) literal = byte !== EQUALS;
    else if (byte === 32 || byte === 9) {
      // Not when it ends a line (a transport may strip trailing white space).
      const next = i + 1 < n ? bytes[i + 1]! : LF;
      literal = next !== LF && !(next === CR && i + 2 < n && bytes[i + 2] === LF);
    } else literal = false;
    const width = literal ? 1 : 3;
    if (column + width > LINE) {
      out[o++] = EQUALS;
      out[o++] = CR;
      out[o++] = LF;
      column = 0;
    }
    if (literal) out[o++] = byte;
    else {
      out[o++] = EQUALS;
      out[o++] = HEX[byte >> 4]!;
      out[o++] = HEX[byte & 15]!;
    }
    column += width;
  }
  return out.toString('latin1', 0, o);
}
