import { useMemo, useState } from 'react';
import { api } from '../api/client.ts';
import { dateTime } from '../ui/format.ts';
import { EventTable } from './EventTable.tsx';
import { useLiveEvents, type LiveEvent } from './live-events.tsx';
import { usePoll } from './use-poll.ts';

interface Filter {
  type: string;
  stream: string;
  customer: string;
}

const matches = (event: LiveEvent, f: Filter) =>
  (!f.type || event.type === f.type) &&
  (!f.stream || event.streamId === f.stream) &&
  (!f.customer || event.partitionKey === f.customer);

/** The global log newest first: what the stream brings live on top of what was there. */
export function EventsView() {
  const [filter, setFilter] = useState<Filter>({ type: '', stream: '', customer: '' });
  const [open, setOpen] = useState<string | null>(null);
  const [stream, setStream] = useState<string | null>(null);
  const { events: live } = useLiveEvents();
  const query = useMemo(
    () =>
      Object.fromEntries(
        Object.entries(filter)
          .filter(([, v]) => v.trim() !== '')
          .map(([k, v]) => [k, v.trim()]),
      ),
    [filter],
  );
  const { data: stored } = usePoll(
    async () =>
      (await api.GET('/admin/events', { params: { query: { ...query, limit: 100 } } })).data?.events as
        LiveEvent[] | undefined,
    0,
    [JSON.stringify(query)],
  );
  const events = useMemo(() => {
    const seen = new Set<string>();
    return [...live.filter((e) => matches(e, filter)), ...(stored ?? [])]
      .filter((e) => !seen.has(e.id) && !!seen.add(e.id))
      .slice(0, 200);
  }, [live, stored, filter]);

  return (
    <div className="split">
      <section>
        <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter events">
          {(['type', 'stream', 'customer'] as const).map((key) => (
            <div className="field" key={key}>
              <label htmlFor={`filter-${key}`}>
                {key === 'customer' ? 'Customer id' : key === 'type' ? 'Event type' : 'Stream'}
              </label>
              <input
                id={`filter-${key}`}
                value={filter[key]}
                onChange={(e) => setFilter({ ...filter, [key]: e.target.value })}
              />
            </div>
          ))}
        </form>
        <EventTable events={events} label="Global log, newest first" onOpen={(e) => (setOpen(e.id), setStream(null))} />
      </section>
      <aside className="card detail-panel" aria-live="polite">
        {stream ? (
          <StreamDetail streamId={stream} onOpen={(id) => (setOpen(id), setStream(null))} />
        ) : open ? (
          <EventDetail id={open} onOpen={setOpen} onStream={setStream} />
        ) : (
          <p className="muted">Open an event to see its envelope, data and links.</p>
        )}
      </aside>
    </div>
  );
}

function EventDetail({
  id,
  onOpen,
  onStream,
}: {
  id: string;
  onOpen: (id: string) => void;
  onStream: (stream: string) => void;
}) {
  const { data } = usePoll(async () => (await api.GET('/admin/events/{id}', { params: { path: { id } } })).data, 0, [
    id,
  ]);
  if (!data) return <p className="muted">Loading…</p>;
  const { event, causation, caused, correlated } = data;
  return (
    <div data-testid="event-detail">
      <h2>{event.type}</h2>
      <dl className="facts">
        <dt>Id</dt>
        <dd className="mono">{event.id}</dd>
        <dt>Stream</dt>
        <dd>
          <button type="button" className="link mono" onClick={() => onStream(event.streamId)}>
            {event.streamId}
          </button>{' '}
          v{event.version}
        </dd>
        <dt>Position</dt>
        <dd>{event.position}</dd>
        <dt>Time</dt>
        <dd>{dateTime(event.occurredAt)}</dd>
        <dt>Schema</dt>
        <dd>v{event.schemaVersion}</dd>
        <dt>Caused by</dt>
        <dd>
          {causation ? (
            <button type="button" className="link" onClick={() => onOpen(causation.id)}>
              {causation.type}
            </button>
          ) : (
            'a request'
          )}
        </dd>
      </dl>
      <h3>Data</h3>
      <pre className="json">{JSON.stringify(event.data, null, 2)}</pre>
      <h3>Metadata</h3>
      <pre className="json">{JSON.stringify(event.metadata, null, 2)}</pre>
      {caused.length > 0 ? (
        <>
          <h3>Caused</h3>
          <ul className="links">
            {caused.map((e) => (
              <li key={e.id}>
                <button type="button" className="link" onClick={() => onOpen(e.id)}>
                  {e.type}
                </button>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <h3>Correlation ({correlated.length})</h3>
      <ul className="links">
        {correlated.map((e) => (
          <li key={e.id}>
            <button
              type="button"
              className="link"
              onClick={() => onOpen(e.id)}
              aria-current={e.id === event.id ? 'true' : undefined}
            >
              {e.type}
            </button>{' '}
            <span className="muted mono">{e.streamId}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

function StreamDetail({ streamId, onOpen }: { streamId: string; onOpen: (id: string) => void }) {
  const { data } = usePoll(
    async () => (await api.GET('/admin/streams/{streamId}', { params: { path: { streamId } } })).data,
    0,
    [streamId],
  );
  return (
    <div data-testid="stream-detail">
      <h2 className="mono">{streamId}</h2>
      <ol className="versions">
        {data?.events.map((e) => (
          <li key={e.id}>
            <button type="button" className="link" onClick={() => onOpen(e.id)}>
              v{e.version} {e.type}
            </button>{' '}
            <span className="muted">{dateTime(e.occurredAt)}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}
