import { api } from '../api/client.ts';
import { dateTime } from '../ui/format.ts';
import { usePoll } from './use-poll.ts';

/** The three views: checkpoint, lag and state; a rebuild started here shows its progress until the swap. */
export function ProjectionsView() {
  const { data, reload } = usePoll(async () => (await api.GET('/admin/projections')).data?.projections, 1_000);
  const rebuild = async (name: string) => {
    await api.POST('/admin/projections/{name}/rebuild', { params: { path: { name } } });
    reload();
  };
  return (
    <div className="cards-grid">
      {data?.map((p) => (
        <section key={p.name} className="card" data-projection={p.name}>
          <h2>
            {p.name} <span className={`badge badge-${p.state}`}>{p.state}</span>
          </h2>
          <dl className="facts">
            <dt>Schema</dt>
            <dd className="mono">
              {p.schema} v{p.version}
            </dd>
            <dt>Checkpoint</dt>
            <dd>position {p.checkpoint.position}</dd>
            <dt>Events applied</dt>
            <dd>{p.eventsApplied}</dd>
            <dt>Lag</dt>
            <dd>
              {p.lag.events} events · {p.lag.seconds.toFixed(1)} s
            </dd>
            <dt>Last rebuild</dt>
            <dd data-testid="last-rebuild">
              {p.lastRebuild
                ? `${dateTime(p.lastRebuild.finishedAt)} · ${p.lastRebuild.events} events in ${p.lastRebuild.seconds.toFixed(1)} s`
                : 'never'}
            </dd>
          </dl>
          {p.lastError ? <p className="error-text">{p.lastError}</p> : null}
          {p.rebuild ? (
            <div className="rebuild">
              <label htmlFor={`rebuild-${p.name}`}>
                Rebuilding: {p.rebuild.processed} / {p.rebuild.total}
              </label>
              <progress id={`rebuild-${p.name}`} max={100} value={p.rebuild.percent} />
            </div>
          ) : (
            <button type="button" onClick={() => void rebuild(p.name)}>
              Rebuild {p.name}
            </button>
          )}
        </section>
      ))}
    </div>
  );
}
