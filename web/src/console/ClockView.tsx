import { useState } from 'react';
import { api, problemText } from '../api/client.ts';
import { dateTime } from '../ui/format.ts';
import { EventTable } from './EventTable.tsx';
import { useLiveEvents } from './live-events.tsx';
import { usePoll } from './use-poll.ts';

type Advance = { days?: number; hours?: number; to?: string };
interface Progress {
  status: 'running' | 'completed' | 'failed';
  done?: number;
  left?: number;
  now?: string;
  jobsRun?: number;
}

const addMonths = (iso: string, months: number) => {
  const d = new Date(iso);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d.toISOString();
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The test clock: advance it and watch the renewals, retries and ends that fall due run. */
export function ClockView() {
  const { data: clock, reload } = usePoll(async () => (await api.GET('/admin/clock')).data, 5_000);
  const { events } = useLiveEvents();
  const [progress, setProgress] = useState<Progress | null>(null);
  const [since, setSince] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [days, setDays] = useState('7');

  const advance = async (body: Advance) => {
    setError(null);
    setSince(events[0]?.position ?? 0);
    setProgress({ status: 'running' });
    const { data, error: problem, response } = await api.POST('/admin/clock/advance', { body });
    if (problem) {
      setProgress(null);
      setError(problemText(problem));
      return;
    }
    // A long advance answers 202 and runs in the background: follow it where Location says.
    const location = response.headers.get('location');
    if (response.status === 202 && location) {
      for (;;) {
        const state = (await (await fetch(location, { credentials: 'same-origin' })).json()) as Progress;
        setProgress(state);
        if (state.status !== 'running') break;
        await sleep(500);
      }
    } else {
      setProgress({ ...(data as unknown as Progress), status: 'completed' });
    }
    reload();
  };

  if (!clock) return <p className="muted">The test clock is off: this platform runs on the wall clock.</p>;
  const ran = since === null ? [] : events.filter((e) => e.position > since);
  return (
    <>
      <section className="card clock">
        <p className="clock-now" data-testid="clock-now">
          {dateTime(progress?.now ?? clock.now)}
        </p>
        <div className="actions">
          <button type="button" onClick={() => void advance({ hours: 1 })} disabled={progress?.status === 'running'}>
            +1 hour
          </button>
          <button type="button" onClick={() => void advance({ days: 1 })} disabled={progress?.status === 'running'}>
            +1 day
          </button>
          <button
            type="button"
            className="primary"
            onClick={() => void advance({ to: addMonths(clock.now, 1) })}
            disabled={progress?.status === 'running'}
          >
            +1 month
          </button>
          <span className="inline-field">
            <label htmlFor="advance-days">Days</label>
            <input
              id="advance-days"
              type="number"
              min="0"
              max="3660"
              value={days}
              onChange={(e) => setDays(e.target.value)}
            />
            <button
              type="button"
              onClick={() => void advance({ days: Number(days) })}
              disabled={progress?.status === 'running'}
            >
              Advance
            </button>
          </span>
        </div>
        {progress ? (
          <p role="status" data-testid="advance-status">
            {progress.status === 'running'
              ? `Advancing… ${progress.done ?? 0} jobs done${progress.left !== undefined ? `, ${progress.left} left` : ''}`
              : progress.status === 'completed'
                ? `Done: ${progress.jobsRun ?? progress.done ?? 0} jobs ran.`
                : 'The advance failed.'}
          </p>
        ) : null}
        {error ? (
          <p className="error-text" role="alert">
            {error}
          </p>
        ) : null}
      </section>
      {since !== null ? (
        <section className="card">
          <h2>What ran</h2>
          {ran.length === 0 ? (
            <p className="muted">Nothing fell due yet.</p>
          ) : (
            <EventTable events={ran} label="Events since the advance" />
          )}
        </section>
      ) : null}
    </>
  );
}
