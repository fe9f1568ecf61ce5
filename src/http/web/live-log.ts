import type { EventStore } from '../../kernel/store/event-store.ts';
import type { LogPosition, RecordedEvent } from '../../kernel/store/envelope.ts';

/** `txId:position`, the SSE event id a reconnecting browser sends back as Last-Event-ID. */
export const formatPosition = (at: LogPosition) => `${at.txId}:${at.position}`;

export function parsePosition(value: string | undefined): LogPosition | undefined {
  const match = value ? /^(\d+):(\d+)$/.exec(value) : null;
  return match ? { txId: match[1]!, position: Number(match[2]) } : undefined;
}

/**
 * Follows the global log through the store's reader (never skipping a late commit), woken by the
 * store's append signal; other processes' appends are seen at the next wake-up (`idleMs`).
 */
export async function followLog(
  store: EventStore,
  from: LogPosition,
  onEvents: (events: RecordedEvent[], at: LogPosition) => Promise<void> | void,
  onIdle: () => void,
  signal: AbortSignal,
  idleMs = 1_000,
): Promise<void> {
  let after = from;
  while (!signal.aborted) {
    const events = await store.readAll(after, { limit: 200 });
    if (events.length > 0) {
      const last = events[events.length - 1]!;
      after = { txId: last.txId, position: last.position };
      await onEvents(events, after);
      continue;
    }
    await store.appended.wait(idleMs, signal);
    onIdle();
  }
}
