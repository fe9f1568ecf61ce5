import type { Period } from '../../domain/events/common.ts';
import { formatDate, formatMoney, formatPeriod } from './format.ts';

/** What a template renders: the subject and both bodies. */
export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

/** HTML that is already safe: interpolating it into `html` does not escape it again. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (char) => ENTITIES[char]!);

type HtmlValue = string | number | SafeHtml | readonly HtmlValue[] | null | undefined;

const renderValue = (value: HtmlValue): string => {
  if (value === null || value === undefined) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(renderValue).join('');
  return escapeHtml(String(value));
};

/** A template literal whose interpolations are escaped, unless they are `SafeHtml` themselves. */
export const html = (strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml =>
  new SafeHtml(
    strings.reduce((out, string, i) => out + string + (i < values.length ? renderValue(values[i]) : ''), ''),
  );

/** Label/value rows, shown as a table in HTML and as aligned lines in text. */
type Details = [label: string, value: string][];

const PRODUCT = 'Tributary';

function layout(options: {
  title: string;
  greeting: string;
  paragraphs: string[];
  details?: Details;
  closing?: string;
}): Omit<RenderedEmail, 'subject'> {
  const details = options.details ?? [];
  const width = Math.max(0, ...details.map(([label]) => label.length));
  const text = [
    options.greeting,
    '',
    ...options.paragraphs.flatMap((paragraph) => [paragraph, '']),
    ...(details.length ? [...details.map(([label, value]) => `${`${label}:`.padEnd(width + 2)}${value}`), ''] : []),
    ...(options.closing ? [options.closing, ''] : []),
    `— The ${PRODUCT} team`,
    '',
  ].join('\n');
  const rows = details.map(
    ([label, value]) =>
      html`<tr><th align="left" style="padding:4px 16px 4px 0;color:#555;font-weight:normal">${label}</th><td style="padding:4px 0">${value}</td></tr>`,
  );
  const body = html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${options.title}</title></head>
<body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#222;max-width:560px;margin:0 auto;padding:24px">
<h1 style="font-size:20px">${options.title}</h1>
<p>${options.greeting}</p>
${options.paragraphs.map((paragraph) => html`<p>${paragraph}</p>\n`)}${details.length ? html`<table role="presentation" style="border-collapse:collapse;margin:16px 0">${rows}</table>\n` : ''}${options.closing ? html`<p>${options.closing}</p>\n` : ''}<p style="color:#555">— The ${PRODUCT} team</p>
</body>
</html>
`;
  return { text, html: body.value };
}

export function welcomeEmail(input: { name: string; planName: string }): RenderedEmail {
  return {
    subject: `Welcome to ${PRODUCT}`,
    ...layout({
      title: `Welcome to ${PRODUCT}`,
      greeting: `Hello ${input.name},`,
      paragraphs: [
        `Thank you for signing up. Your ${input.planName} subscription is active from today.`,
        'A receipt for your first payment is on its way in a separate email.',
      ],
      closing: 'If you have any question, just reply to this email.',
    }),
  };
}

export interface ReceiptInput {
  name: string;
  amount: number;
  currency: string;
  planName: string;
  period: Period | null;
  paidAt: string;
  paymentMethod: { brand: string; last4: string };
  paymentId: string;
  reference: string;
  invoiceNumber: string | null;
}

const brandName = (brand: string) => brand.charAt(0).toUpperCase() + brand.slice(1).replaceAll('_', ' ');

export function paymentReceipt(input: ReceiptInput): RenderedEmail {
  const amount = formatMoney(input.amount, input.currency);
  const details: Details = [
    ['Amount paid', amount],
    ['Plan', input.planName],
    ...(input.period ? [['Service period', formatPeriod(input.period)] as [string, string]] : []),
    ['Paid on', formatDate(input.paidAt)],
    ['Payment method', `${brandName(input.paymentMethod.brand)} ending in ${input.paymentMethod.last4}`],
    ...(input.invoiceNumber ? [['Invoice', input.invoiceNumber] as [string, string]] : []),
    ['Receipt number', input.paymentId],
    ['Payment reference', input.reference],
  ];
  return {
    subject: `Your ${PRODUCT} receipt: ${amount} for ${input.planName}`,
    ...layout({
      title: `Receipt for ${amount}`,
      greeting: `Hello ${input.name},`,
      paragraphs: [`We received your payment of ${amount} for your ${input.planName} subscription. Thank you.`],
      details,
      closing: 'Keep this email for your records.',
    }),
  };
}

export function renewalNotice(input: {
  name: string;
  planName: string;
  amount: number;
  currency: string;
  period: Period;
}): RenderedEmail {
  const amount = formatMoney(input.amount, input.currency);
  return {
    subject: `Your ${input.planName} subscription has renewed`,
    ...layout({
      title: 'Subscription renewed',
      greeting: `Hello ${input.name},`,
      paragraphs: [
        `Your ${input.planName} subscription has renewed for a new period, and ${amount} was charged to your payment method on file.`,
      ],
      details: [
        ['Plan', input.planName],
        ['New period', formatPeriod(input.period)],
        ['Amount', amount],
        ['Next renewal', formatDate(input.period.end)],
      ],
      closing: 'You can cancel at any time; the subscription then runs until the end of the paid period.',
    }),
  };
}
