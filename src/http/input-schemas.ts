import { z } from 'zod';

/**
 * The shared shapes of request input, so every route refuses the same things the same way. Times
 * stay within years 1970-9999: earlier or later ones are mistakes that the databases refuse.
 */
const MIN_YEAR = 1970;
const MAX_YEAR = 9999;
const year = (ms: number) => new Date(ms).getUTCFullYear();
export const isSaneTime = (ms: number) => Number.isFinite(ms) && year(ms) >= MIN_YEAR && year(ms) <= MAX_YEAR;

/** An ISO 8601 instant with its offset (Z or ±hh:mm), between 1970 and 9999. */
export const instant = z.iso
  .datetime({ offset: true })
  .refine((text) => isSaneTime(Date.parse(text)), `an instant between ${MIN_YEAR} and ${MAX_YEAR}`);

/** A real calendar date, YYYY-MM-DD (not 2026-02-30), between 1970 and 9999. */
export const calendarDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a calendar date, YYYY-MM-DD')
  .refine((text) => {
    const ms = Date.parse(`${text}T00:00:00.000Z`);
    return isSaneTime(ms) && new Date(ms).toISOString().slice(0, 10) === text;
  }, `a calendar date, YYYY-MM-DD, between ${MIN_YEAR} and ${MAX_YEAR}`);

/** A month, YYYY-MM, between 1970 and 9999. */
export const calendarMonth = z
  .string()
  .regex(/^(19[7-9]\d|[2-9]\d{3})-(0[1-9]|1[0-2])$/, `a month, YYYY-MM, between ${MIN_YEAR} and ${MAX_YEAR}`);

/** An email address as given: trimmed and lower-cased before it is checked. */
export const emailAddress = z.string().trim().toLowerCase().max(254).pipe(z.email());

/** A person's name or other free text (the input guard has refused control and invisible characters). */
export const freeText = (max: number) => z.string().trim().min(1).max(max);

/** An Idempotency-Key: printable ASCII. */
export const idempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, 'printable ASCII, 1-255 characters')
  .describe(
    'the same key with the same request answers the same again and does nothing twice; with another request, 422',
  );
