import { describe, expect, it } from 'vitest';
import { parseEmail } from '../../../test/support/smtp-sink.ts';
import { composeMessage, formatAddress, parseSender } from './compose-message.ts';

const email = {
  messageId: '<0190-1@tributary>',
  to: { name: 'Zoë Ünal', address: 'zoe@exämple.com' },
  subject: 'Your receipt: €32.00',
  text: 'Hello Zoë,\n\nA line long enough to be wrapped by quoted-printable encoding at seventy-six characters.\n',
  html: '<p class="x">Hello Zoë</p>\n',
  date: new Date('2026-12-03T10:00:00Z'),
  headers: { 'X-Tributary-Event-Id': '0190-1' },
};

describe('composeMessage', () => {
  it('writes a multipart/alternative message any reader parses back to the same email', () => {
    const raw = composeMessage(email, parseSender('Tributary <no-reply@tributary.local>')).toString('utf8');
    expect(raw).toMatch(/^[ -~\r\n\t]*$/);
    expect(raw.split('\r\n').every((line) => line.length <= 78)).toBe(true);
    const parsed = parseEmail(raw);
    expect(parsed.messageId).toBe('<0190-1@tributary>');
    expect(parsed.subject).toBe('Your receipt: €32.00');
    expect(parsed.text).toBe(email.text);
    expect(parsed.html).toContain('<p class="x">Hello Zoë</p>');
    expect(raw).toContain('Date: Thu, 03 Dec 2026 10:00:00 +0000');
    expect(raw).toContain('X-Tributary-Event-Id: 0190-1');
  });

  it('never lets a line break in a value start a header of its own', () => {
    const raw = composeMessage(
      {
        ...email,
        subject: 'Hi\r\nBcc: eve@example.com',
        to: { name: 'Ann\r\nBcc: eve@example.com', address: 'a@example.com' },
      },
      parseSender('no-reply@tributary.local'),
    ).toString('utf8');
    expect(raw).not.toMatch(/^Bcc:/m);
  });

  it('quotes or encodes display names and writes domains in ASCII', () => {
    expect(formatAddress({ name: 'Ann Lee', address: 'ann@example.com' })).toBe('Ann Lee <ann@example.com>');
    expect(formatAddress({ name: 'Lee, Ann "A"', address: 'ann@example.com' })).toBe(
      '"Lee, Ann \\"A\\"" <ann@example.com>',
    );
    expect(formatAddress({ name: 'Zoë', address: 'zoe@exämple.com' })).toBe(
      '=?UTF-8?Q?Zo=C3=AB?= <zoe@xn--exmple-cua.com>',
    );
  });
});
