import type PDFKit from 'pdfkit';
import { formatDay, formatMoney, formatRate } from './format.ts';
import type { PersonalData } from '../../kernel/crypto/personal-data.ts';
import type { Invoice } from './invoices.ts';

const SELLER = 'Tributary';

/**
 * The invoice as a PDF (A4, PDFKit's built-in Helvetica: nothing to download or embed), rendered
 * on request and never stored. Invoices keep no personal data: the bill-to name and email are
 * opened at the edge with the customer's key, and an erased customer shows as such.
 */
export async function renderInvoicePdf(invoice: Invoice, customer: PersonalData | null): Promise<Buffer> {
  // Loaded on the first PDF: PDFKit takes a noticeable part of a start that may never serve one.
  const { default: PDFDocument } = (await import('pdfkit')) as { default: typeof PDFKit };
  const doc = new PDFDocument({
    size: 'A4',
    margin: 56,
    info: {
      Title: invoice.number,
      Subject: `Invoice ${invoice.number}`,
      Author: SELLER,
      Creator: SELLER,
      CreationDate: new Date(invoice.issuedAt),
    },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const money = (amount: number) => formatMoney(amount, invoice.currency);
  const left = doc.page.margins.left;
  const width = doc.page.width - left - doc.page.margins.right;

  doc.font('Helvetica-Bold').fontSize(22).text(SELLER, left, 56);
  doc.font('Helvetica').fontSize(9).fillColor('#555555').text('Subscription billing', left);
  doc.font('Helvetica-Bold').fontSize(16).fillColor('#000000').text('INVOICE', left, 56, { width, align: 'right' });
  doc.font('Helvetica').fontSize(10).text(invoice.number, { width, align: 'right' });
  doc.text(`Issued ${formatDay(invoice.issuedAt)}`, { width, align: 'right' });
  doc.font('Helvetica-Bold').fillColor('#1a7f37').text(invoice.status.toUpperCase(), { width, align: 'right' });

  doc.fillColor('#000000').font('Helvetica-Bold').fontSize(10).text('Bill to', left, 150);
  if (customer) doc.font('Helvetica').text(customer.name).text(customer.email);
  else doc.font('Helvetica-Oblique').text('Erased customer');
  doc.font('Helvetica').fillColor('#555555').text(`Customer ${invoice.customerId}`).fillColor('#000000');
  if (invoice.subscriptionId) doc.text(`Subscription ${invoice.subscriptionId}`);

  const columns = { description: left, period: left + 200, amount: left + width - 110 };
  let y = 245;
  doc.font('Helvetica-Bold').fontSize(10);
  doc.text('Description', columns.description, y);
  doc.text('Service period', columns.period, y);
  doc.text(`Amount (${invoice.currency})`, columns.amount, y, { width: 110, align: 'right' });
  y += 16;
  doc
    .moveTo(left, y)
    .lineTo(left + width, y)
    .strokeColor('#999999')
    .stroke();
  y += 8;
  doc.font('Helvetica');
  for (const line of invoice.lines) {
    doc.text(line.description, columns.description, y, { width: 190 });
    doc.text(`${formatDay(line.period.start)} - ${formatDay(line.period.end)}`, columns.period, y, { width: 180 });
    doc.text(money(line.amount), columns.amount, y, { width: 110, align: 'right' });
    y += 22;
  }
  doc
    .moveTo(left, y)
    .lineTo(left + width, y)
    .stroke();
  y += 10;

  const total = (label: string, value: string, bold = false) => {
    doc.font(bold ? 'Helvetica-Bold' : 'Helvetica');
    doc.text(label, columns.period, y, { width: 200 });
    doc.text(value, columns.amount, y, { width: 110, align: 'right' });
    y += 18;
  };
  total('Subtotal', money(invoice.subtotal));
  total(`Tax (${formatRate(invoice.taxRateBps)}, included)`, money(invoice.tax));
  total('Total', money(invoice.total), true);
  total('Amount paid', money(invoice.total));

  y += 20;
  doc.font('Helvetica-Bold').text('Payment', left, y);
  doc
    .font('Helvetica')
    .text(
      `Paid ${formatDay(invoice.issuedAt)} by ${invoice.paymentMethod.brand} ending ${invoice.paymentMethod.last4}, reference ${invoice.paymentReference}.`,
      { width },
    );
  doc.text(`Payment ${invoice.paymentId}.`, { width });
  doc.moveDown();
  doc
    .fontSize(8)
    .fillColor('#555555')
    .text('Prices include tax. Amounts are in ' + invoice.currency + '.', { width });
  doc.end();
  return done;
}
