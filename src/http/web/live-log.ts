import type { EventStore } from '../../kernel/store/event-store.ts';
import type { LogPosition, RecordedEvent } from '../../kernel/store/envelope.ts';

/** Where a new follower starts: after the last event the global-log reader can already see. */
export async function readableTail(store: EventStore): Promise<LogPosition> {
  const { rows } = await store.db.query<{ tx_id: string; position: number }>(
    `select tx_id::text, position from events where tx_id < pg_snapshot_xmin(pg_current_snapshot())
     order by tx_id desc, position desc limit 1`,
  );
  return rows[0] ? { txId: rows[0].tx_id, position: Number(rows[0].position) } : { txId: '0', position: 0 };
}

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
