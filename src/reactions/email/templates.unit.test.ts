import { describe, expect, it } from 'vitest';
import { formatMoney, formatPeriod } from './format.ts';
import { escapeHtml, html, paymentReceipt, renewalNotice, welcomeEmail } from './templates.ts';

describe('email templates', () => {
  it('formats minor units in the currency, without floats', () => {
    expect(formatMoney(2900, 'EUR')).toBe('€29.00');
    expect(formatMoney(5, 'USD')).toBe('$0.05');
    expect(formatMoney(1234, 'JPY')).toBe('¥1,234');
    expect(formatMoney(1234567, 'KWD')).toMatch(/^KWD\s1,234\.567$/);
    expect(formatMoney(900719925474099, 'USD')).toBe('$9,007,199,254,740.99');
  });

  it('escapes every interpolation into HTML', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(html`<p>${'<script>'}</p>${html`<b>${'&'}</b>`}`.value).toBe('<p>&lt;script&gt;</p><b>&amp;</b>');
    const { html: body, text } = welcomeEmail({ name: '<img src=x onerror=alert(1)>', planName: 'Pro & Co' });
    expect(body).not.toContain('<img');
    expect(body).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(body).toContain('Pro &amp; Co');
    expect(text).toContain('Hello <img src=x onerror=alert(1)>,');
  });

  it('renders a receipt with amount, plan, period, card and the invoice number when there is one', () => {
    const period = { start: '2026-01-31T10:00:00.000Z', end: '2026-02-28T10:00:00.000Z' };
    const input = {
      name: 'Ann',
      amount: 2900,
      currency: 'EUR',
      planName: 'Pro',
      period,
      paidAt: period.start,
      paymentMethod: { brand: 'visa', last4: '4242' },
      paymentId: 'pay-1',
      reference: 'ch_1',
      invoiceNumber: null,
    };
    const receipt = paymentReceipt(input);
    expect(receipt.subject).toBe('Your Tributary receipt: €29.00 for Pro');
    expect(receipt.text).toMatch(/Service period:\s+Jan 31, 2026 – Feb 28, 2026\n/);
    expect(formatPeriod(period)).toBe('Jan 31, 2026 – Feb 28, 2026');
    expect(receipt.text).toContain('Visa ending in 4242');
    expect(receipt.text).not.toContain('Invoice');
    expect(paymentReceipt({ ...input, invoiceNumber: 'INV-2026-000001' }).text).toMatch(/Invoice:\s+INV-2026-000001/);
    expect(paymentReceipt({ ...input, period: null }).text).not.toContain('Service period');
  });

  it('renders a renewal notice with the new period and the amount', () => {
    const notice = renewalNotice({
      name: 'Ann',
      planName: 'Pro',
      amount: 3200,
      currency: 'USD',
      period: { start: '2026-02-01T00:00:00.000Z', end: '2026-03-01T00:00:00.000Z' },
    });
    expect(notice.subject).toBe('Your Pro subscription has renewed');
    expect(notice.text).toMatch(/New period:\s+Feb 1, 2026 – Mar 1, 2026/);
    expect(notice.text).toMatch(/Next renewal:\s+Mar 1, 2026/);
    expect(notice.html).toContain('$32.00');
  });
});
