import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';

export interface LiveEvent {
  id: string;
  type: string;
  schemaVersion: number;
  streamId: string;
  version: number;
  position: number;
  occurredAt: string;
  partitionKey: string;
  data?: unknown;
  metadata: { correlationId: string; causationId: string | null; actor: string };
}

interface Live {
  events: LiveEvent[];
  connected: boolean;
  /** When each event type was last seen on the stream (browser time), for the map's animation. */
  lastSeen: Map<string, number>;
}

const LiveContext = createContext<Live>({ events: [], connected: false, lastSeen: new Map() });
const KEEP = 300;

/** Parses a Server-Sent Events body read with fetch (the session cookie rides along; no token in a URL). */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  onEvent: (data: string, id: string | undefined) => void,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
        .join('\n');
      const id = block
        .split('\n')
        .find((line) => line.startsWith('id: '))
        ?.slice(4);
      if (data) onEvent(data, id);
    }
  }
}

/** One live stream for the whole console: GET /admin/events/stream, reconnecting after a pause. */
export function LiveEventsProvider({ children }: { children: ReactNode }) {
  const [live, setLive] = useState<Live>({ events: [], connected: false, lastSeen: new Map() });
  useEffect(() => {
    const stop = new AbortController();
    let lastId: string | null = null;
    const run = async () => {
      while (!stop.signal.aborted) {
        try {
          const response = await fetch('/admin/events/stream', {
            credentials: 'same-origin',
            headers: lastId ? { 'last-event-id': lastId } : {},
            signal: stop.signal,
          });
          if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
          setLive((current) => ({ ...current, connected: true }));
          await readEvents(response.body, (data, id) => {
            const event = JSON.parse(data) as LiveEvent;
            lastId = id ?? lastId;
            setLive((current) => {
              const lastSeen = new Map(current.lastSeen).set(event.type, performance.now());
              return { connected: true, events: [event, ...current.events].slice(0, KEEP), lastSeen };
            });
          });
        } catch {
          if (stop.signal.aborted) return;
        }
        setLive((current) => ({ ...current, connected: false }));
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      }
    };
    void run();
    return () => stop.abort();
  }, []);
  return <LiveContext.Provider value={live}>{children}</LiveContext.Provider>;
}

export const useLiveEvents = () => useContext(LiveContext);
