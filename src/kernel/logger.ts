import { pino, type DestinationStream, type Logger } from 'pino';
import { scrubAddresses } from './crypto/scrub.ts';
import { currentTraceparent, traceIdOf } from './tracing.ts';

export type { Logger };

/**
 * Fields that may hold personal data, never logged: a request body (email, name), a saga's
 * state (the registration's request), addresses, payment tokens, bearer tokens. What escapes the
 * list (an address inside an error text) is caught by the scrub of every line.
 */
export const REDACTED_PATHS = [
  'email',
  '*.email',
  'to',
  '*.to',
  'body',
  '*.body',
  'state',
  '*.state',
  'paymentMethod',
  '*.paymentMethod',
  'err.parameters',
  'err.rejected',
  'err.accepted',
  'err.envelope',
  'req.headers.authorization',
  'headers.authorization',
];

/** A URL as logged: the query's values are left out (`?email=`, `?to=` carry addresses). */
export const urlForLog = (url: string): string => {
  const query = url.indexOf('?');
  if (query < 0) return url;
  const names = url
    .slice(query + 1)
    .split('&')
    .map((pair) => pair.split('=')[0]);
  return `${url.slice(0, query)}?${names.map((name) => `${name}=[redacted]`).join('&')}`;
};

interface RequestLike {
  method?: string;
  url?: string;
  hostname?: string;
  ip?: string;
}

const TRACE_BINDING = '"traceId":';
const chindings = pino.symbols.chindingsSym as unknown as string;

/**
 * JSON logs on stdout (or `destination`): every line about an event carries its correlation and
 * causation ids, and every line written in a request, a saga or a consumer's handling of an event
 * carries the trace id of that span (from the logger's bindings or, else, the current span).
 */
export const createLogger = (level: string = 'info', destination?: DestinationStream): Logger =>
  pino(
    {
      level,
      base: { service: 'tributary' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: {
        req: (request: RequestLike) => ({
          method: request.method,
          url: request.url === undefined ? undefined : urlForLog(request.url),
          host: request.hostname,
          remoteAddress: request.ip,
        }),
      },
      mixin(_object, _level, logger) {
        if (((logger as unknown as Record<string, string | undefined>)[chindings] ?? '').includes(TRACE_BINDING))
          return {};
        const traceId = traceIdOf(currentTraceparent());
        return traceId ? { traceId } : {};
      },
      hooks: { streamWrite: scrubAddresses },
    },
    destination,
  );

export const silentLogger: Logger = pino({ level: 'silent' });
