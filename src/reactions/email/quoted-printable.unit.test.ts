import { describe, expect, it } from 'vitest';
import { encodeQuotedPrintable } from './quoted-printable.ts';

/** RFC 2045 decoding: soft breaks dropped, escapes to bytes. */
const decode = (encoded: string): Buffer => {
  const text = encoded.replace(/=\r\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '=') {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(text.charCodeAt(i));
  }
  return Buffer.from(bytes);
};

/** What a body must come back as: its UTF-8 bytes with CRLF line ends. */
const expected = (text: string) => Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'utf8');

const wellFormed = (encoded: string) => {
  const lines = encoded.split('\r\n');
  return (
    /^[\t\x20-\x7e\r\n]*$/.test(encoded) &&
    !/\r(?!\n)|(?<!\r)\n/.test(encoded) &&
    lines.every((line) => line.length <= 76 && !/[ \t]$/.test(line)) &&
    lines.every((line) => !/=(?![0-9A-F]{2}|$)/.test(line))
  );
};

describe('encodeQuotedPrintable', () => {
  it('keeps printable ASCII, escapes the rest and white space ending a line', () => {
    expect(encodeQuotedPrintable('a = b')).toBe('a =3D b');
    expect(encodeQuotedPrintable('Zoë €')).toBe('Zo=C3=AB =E2=82=AC');
    expect(encodeQuotedPrintable('end \nnext\t\r\nlast ')).toBe('end=20\r\nnext=09\r\nlast=20');
    expect(encodeQuotedPrintable('a\rb')).toBe('a=0Db');
  });

  it('breaks long lines softly at 76 characters, never inside an escape', () => {
    const encoded = encodeQuotedPrintable(`${'x'.repeat(74)}é${'y'.repeat(200)}`);
    expect(encoded.split('\r\n')[0]).toBe(`${'x'.repeat(74)}=`);
    expect(encoded.split('\r\n')[1]!.startsWith('=C3=A9')).toBe(true);
    expect(wellFormed(encoded)).toBe(true);
    expect(decode(encoded)).toEqual(expected(`${'x'.repeat(74)}é${'y'.repeat(200)}`));
  });

  it('decodes back to the same bytes, whatever the text (and whatever the text before it)', () => {
    const pieces = ['a', 'Z', ' ', '\t', '=', '\n', '\r\n', '\r', 'é', '€', '😀', '中', '.', '\u0000', '\u007f'];
    pieces.push('x'.repeat(80), '   ', '\ud800');
    let seed = 42;
    const random = (below: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % below;
    };
    for (let round = 0; round < 3000; round++) {
      let text = '';
      for (let length = random(40); length > 0; length--) text += pieces[random(pieces.length)];
      const encoded = encodeQuotedPrintable(text);
      expect(wellFormed(encoded), JSON.stringify(text)).toBe(true);
      expect(decode(encoded).equals(expected(text)), JSON.stringify(text)).toBe(true);
    }
  });
});
