import { shortId, time } from '../ui/format.ts';
import type { LiveEvent } from './live-events.tsx';

/** Events as rows; a row opens the event. */
export function EventTable(props: {
  events: LiveEvent[];
  onOpen?: (event: LiveEvent) => void;
  label: string;
  compact?: boolean;
}) {
  const { events, onOpen, label, compact } = props;
  return (
    <table className="table events-table" aria-label={label}>
      <thead>
        <tr>
          {compact ? null : (
            <th scope="col" className="num">
              Position
            </th>
          )}
          <th scope="col">Time</th>
          <th scope="col">Type</th>
          {compact ? null : <th scope="col">Stream</th>}
          <th scope="col">Customer</th>
        </tr>
      </thead>
      <tbody>
        {events.map((event) => (
          <tr key={event.id} data-type={event.type}>
            {compact ? null : <td className="num">{event.position}</td>}
            <td>{time(event.occurredAt)}</td>
            <td>
              {onOpen ? (
                <button type="button" className="link" onClick={() => onOpen(event)}>
                  {event.type}
                </button>
              ) : (
                event.type
              )}
            </td>
            {compact ? null : (
              <td className="mono">
                {event.streamId} <span className="muted">v{event.version}</span>
              </td>
            )}
            <td className="mono">{shortId(event.partitionKey)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
