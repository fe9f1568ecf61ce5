/** Minor units as the currency writes them (`EUR 29.00`, `JPY 500`), from the integer, never through a float. */
export function formatMoney(amount: number, currency: string): string {
  const format = moneyFormat(currency);
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  const sign = amount < 0 ? '-' : '';
  const units = String(Math.abs(amount)).padStart(digits + 1, '0');
  const decimal = digits === 0 ? units : `${units.slice(0, -digits)}.${units.slice(-digits)}`;
  return format.format(`${sign}${decimal}` as Intl.StringNumericLiteral).replace(/\u00a0/g, ' ');
}

// Building an Intl format costs tens of µs: one per currency, and one for days.
const moneyFormats = new Map<string, Intl.NumberFormat>();
function moneyFormat(currency: string): Intl.NumberFormat {
  let format = moneyFormats.get(currency);
  if (!format) {
    format = new Intl.NumberFormat('en', { style: 'currency', currency, currencyDisplay: 'code' });
    moneyFormats.set(currency, format);
  }
  return format;
}
// Made at the first invoice: the first date format of a process loads its locale data (about 20 ms of a start).
let dayFormat: Intl.DateTimeFormat | undefined;

/** A day in UTC, as invoices print it (`15 Jan 2026`). */
export const formatDay = (iso: string): string =>
  (dayFormat ??= new Intl.DateTimeFormat('en-GB', {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    timeZone: 'UTC',
  })).format(new Date(iso));

/** A rate in basis points as a percentage (`20%`, `8.25%`). */
export const formatRate = (bps: number): string => `${(bps / 100).toFixed(2).replace(/\.?0+$/, '')}%`;
