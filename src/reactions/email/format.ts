import type { Period } from '../../domain/events/common.ts';

/** The locale of every email (one language for now). */
export const EMAIL_LOCALE = 'en';

// Building an Intl.NumberFormat costs tens of µs, and asking its resolved options a few: one per
// locale and currency, with its number of decimals, not one per email.
const moneyFormats = new Map<string, { format: Intl.NumberFormat; digits: number }>();
const moneyFormat = (locale: string, currency: string) => {
  const key = `${locale} ${currency}`;
  let money = moneyFormats.get(key);
  if (!money) {
    const format = new Intl.NumberFormat(locale, { style: 'currency', currency });
    moneyFormats.set(key, (money = { format, digits: format.resolvedOptions().maximumFractionDigits ?? 2 }));
  }
  return money;
};

/**
 * Integer minor units as money in their currency (`2900 EUR` → `€29.00`, `1234 JPY` → `¥1,234`).
 * The amount reaches Intl as a decimal string, never as a float.
 */
export function formatMoney(amount: number, currency: string, locale: string = EMAIL_LOCALE): string {
  const { format, digits } = moneyFormat(locale, currency);
  const sign = amount < 0 ? '-' : '';
  const units = String(Math.abs(amount)).padStart(digits + 1, '0');
  const decimal = digits === 0 ? units : `${units.slice(0, -digits)}.${units.slice(-digits)}`;
  return format.format(`${sign}${decimal}` as `${number}`);
}

const dateFormat = new Intl.DateTimeFormat(EMAIL_LOCALE, { dateStyle: 'medium', timeZone: 'UTC' });

/** A day as customers read it (`Mar 1, 2026`), in UTC like every time of the platform. */
export const formatDate = (time: string | Date): string => dateFormat.format(new Date(time));

/** A billing period: its end is exclusive, the day the next one starts (`Mar 1, 2026 – Apr 1, 2026`). */
export const formatPeriod = (period: Period): string => `${formatDate(period.start)} – ${formatDate(period.end)}`;
