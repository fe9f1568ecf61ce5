import { AsyncLocalStorage } from 'node:async_hooks';
import { randomFillSync } from 'node:crypto';

/**
 * W3C Trace Context (`traceparent: 00-<trace id>-<span id>-<flags>`): one trace id follows a
 * request through the events it causes, the Kafka messages that carry them (CloudEvents
 * `traceparent` extension) and the consumers that handle them, each hop a span of its own. The
 * current one lives in async-local storage, so the store stamps it on every event appended and
 * the logger on every line written while it runs.
 */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export interface TraceParent {
  traceId: string;
  spanId: string;
  flags: string;
}

/** The parsed header, or null when it is missing or not a valid version-00-compatible value. */
export function parseTraceparent(header: string | undefined): TraceParent | null {
  const match = header ? TRACEPARENT.exec(header.trim().toLowerCase()) : null;
  if (!match) return null;
  const [, version, traceId, spanId, flags] = match as unknown as [string, string, string, string, string];
  if (version === 'ff' || /^0+$/.test(traceId) || /^0+$/.test(spanId)) return null;
  return { traceId, spanId, flags };
}

// Random bytes drawn 4 KiB at a time: a consumer makes a span per event, and a system call for
// each one's 8 bytes was a fifth of a no-op consumer's time.
const pool = Buffer.alloc(4096);
let drawn = pool.length;
function randomHex(bytes: number): string {
  if (drawn + bytes > pool.length) {
    randomFillSync(pool);
    drawn = 0;
  }
  drawn += bytes;
  return pool.toString('hex', drawn - bytes, drawn);
}

const format = (traceId: string, flags = '01') => `00-${traceId}-${randomHex(8)}-${flags}`;

/** A new span: of the incoming trace when there is a valid one, else of a new trace. */
export function continueTrace(incoming: string | undefined): string {
  const parent = parseTraceparent(incoming);
  return parent ? format(parent.traceId, parent.flags) : format(randomHex(16));
}

/** The trace id of a traceparent (undefined for none or an invalid one). */
export const traceIdOf = (traceparent: string | undefined): string | undefined =>
  parseTraceparent(traceparent)?.traceId;

const storage = new AsyncLocalStorage<string>();

/** Runs `work` with `traceparent` as the current span. */
export const withTrace = <T>(traceparent: string, work: () => T): T => storage.run(traceparent, work);

/** The current span's traceparent, if any. */
export const currentTraceparent = (): string | undefined => storage.getStore();
