import { InvalidCommandError, type AggregateName } from './errors.ts';

/** An instant as the events carry it: `Date#toISOString()` (UTC, milliseconds), so times sort as text. */
export type Instant = string;

/** Normalises a command's time to the events' format; refuses anything that is not a time. */
export const instant = (aggregate: AggregateName, field: string, value: string | Date): Instant => {
  const millis = value instanceof Date ? value.getTime() : Date.parse(value);
  if (Number.isNaN(millis))
    throw new InvalidCommandError(aggregate, 'invalid_time', `${field}: not a time: ${String(value)}`);
  return new Date(millis).toISOString();
};

export const millisOf = (value: string | Date): number => (value instanceof Date ? value.getTime() : Date.parse(value));

export const isBefore = (a: string | Date, b: string | Date): boolean => millisOf(a) < millisOf(b);

export const later = (a: Instant, b: Instant): Instant => (isBefore(a, b) ? b : a);
