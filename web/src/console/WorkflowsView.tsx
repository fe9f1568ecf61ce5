import { useState } from 'react';
import { api, problemText } from '../api/client.ts';
import { stepLabel } from '../signup/saga-steps.ts';
import { dateTime, shortId, time } from '../ui/format.ts';
import { StepList, type StepItem } from '../ui/StepList.tsx';
import { usePoll } from './use-poll.ts';

const STATUSES = ['', 'running', 'completed', 'compensating', 'compensated', 'compensation_failed'] as const;
type Status = Exclude<(typeof STATUSES)[number], ''>;

/** Registrations (and any other workflow) by status, each a timeline of its steps; a parked one can be retried. */
export function WorkflowsView() {
  const [status, setStatus] = useState<Status | ''>('');
  const [open, setOpen] = useState<string | null>(null);
  const { data } = usePoll(
    async () =>
      (await api.GET('/admin/workflows', { params: { query: { limit: 50, ...(status ? { status } : {}) } } })).data,
    3_000,
    [status],
  );
  return (
    <div className="split">
      <section>
        <div className="filters">
          <div className="field">
            <label htmlFor="workflow-status">Status</label>
            <select id="workflow-status" value={status} onChange={(e) => setStatus(e.target.value as Status | '')}>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s || 'any'}
                </option>
              ))}
            </select>
          </div>
        </div>
        <table className="table" aria-label="Workflows">
          <thead>
            <tr>
              <th scope="col">Workflow</th>
              <th scope="col">Type</th>
              <th scope="col">Status</th>
              <th scope="col">Started</th>
              <th scope="col" className="num">
                Attempts
              </th>
            </tr>
          </thead>
          <tbody>
            {data?.items.map((w) => (
              <tr key={w.id} data-workflow={w.id}>
                <td>
                  <button type="button" className="link mono" onClick={() => setOpen(w.id)}>
                    {shortId(w.id)}
                  </button>
                </td>
                <td>{w.type}</td>
                <td>
                  <span className={`badge badge-${w.status}`}>{w.status}</span>
                </td>
                <td>{dateTime(w.startedAt)}</td>
                <td className="num">{w.attempts}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <aside className="card detail-panel">
        {open ? <WorkflowDetail id={open} /> : <p className="muted">Open a workflow to see its timeline.</p>}
      </aside>
    </div>
  );
}

function WorkflowDetail({ id }: { id: string }) {
  const { data, reload } = usePoll(
    async () => (await api.GET('/admin/workflows/{id}', { params: { path: { id } } })).data,
    2_000,
    [id],
  );
  const [message, setMessage] = useState<string | null>(null);
  if (!data) return <p className="muted">Loading…</p>;
  const steps: StepItem[] = data.steps.map((s) => ({
    key: `${s.name}-${s.phase}`,
    label: `${stepLabel({ step: s.name, phase: s.phase })} · ${s.attempts} attempt${s.attempts === 1 ? '' : 's'}`,
    status:
      s.status === 'completed'
        ? s.phase === 'compensate'
          ? 'compensated'
          : 'completed'
        : s.status === 'failed'
          ? 'failed'
          : 'running',
    at: s.completedAt ?? s.startedAt,
    detail: s.error,
    compensation: s.phase === 'compensate',
  }));
  const retry = async () => {
    const { error } = await api.POST('/admin/workflows/{id}/retry', { params: { path: { id } } });
    setMessage(error ? problemText(error) : 'Retried: the workflow resumes its compensation.');
    reload();
  };
  return (
    <div data-testid="workflow-detail">
      <h2>
        {data.type} <span className="mono muted">{shortId(data.id)}</span>
      </h2>
      <p>
        <span className={`badge badge-${data.status}`} data-testid="workflow-status">
          {data.status}
        </span>{' '}
        <span className="muted">started {dateTime(data.startedAt)}</span>
      </p>
      {data.lastError ? <p className="error-text">{data.lastError}</p> : null}
      <StepList steps={steps} label="Workflow timeline" />
      {data.status === 'compensation_failed' ? (
        <button type="button" className="primary" onClick={() => void retry()}>
          Retry
        </button>
      ) : null}
      {message ? <p role="status">{message}</p> : null}
      <h3>History</h3>
      <ol className="versions">
        {data.history.map((e) => (
          <li key={e.id}>
            <span className="mono muted">{time(e.occurredAt)}</span> {e.type}{' '}
            <span className="muted mono">{e.streamId}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}
