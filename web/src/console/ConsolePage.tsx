import { lazy, Suspense, useEffect, useState, type FormEvent } from 'react';
import { api, UNAUTHORIZED_EVENT } from '../api/client.ts';
import { navigate } from '../ui/router.ts';
import { LiveEventsProvider, useLiveEvents } from './live-events.tsx';

// Each view is a chunk of its own, loaded when opened: the map (@xyflow/react) and the charts
// (Recharts) stay out of the other views, and the whole console out of the sign-up page.
const FlowView = lazy(() => import('./FlowView.tsx').then((m) => ({ default: m.FlowView })));
const EventsView = lazy(() => import('./EventsView.tsx').then((m) => ({ default: m.EventsView })));
const WorkflowsView = lazy(() => import('./WorkflowsView.tsx').then((m) => ({ default: m.WorkflowsView })));
const ConsumersView = lazy(() => import('./ConsumersView.tsx').then((m) => ({ default: m.ConsumersView })));
const ProjectionsView = lazy(() => import('./ProjectionsView.tsx').then((m) => ({ default: m.ProjectionsView })));
const CustomersView = lazy(() => import('./CustomersView.tsx').then((m) => ({ default: m.CustomersView })));
const AnalyticsView = lazy(() => import('./AnalyticsView.tsx').then((m) => ({ default: m.AnalyticsView })));
const LedgerView = lazy(() => import('./LedgerView.tsx').then((m) => ({ default: m.LedgerView })));
const ClockView = lazy(() => import('./ClockView.tsx').then((m) => ({ default: m.ClockView })));

const VIEWS = [
  { path: '/console', label: 'Event flow', view: FlowView },
  { path: '/console/events', label: 'Events', view: EventsView },
  { path: '/console/workflows', label: 'Workflows', view: WorkflowsView },
  { path: '/console/consumers', label: 'Consumers & dead letters', view: ConsumersView },
  { path: '/console/projections', label: 'Projections', view: ProjectionsView },
  { path: '/console/customers', label: 'Customers', view: CustomersView },
  { path: '/console/analytics', label: 'Analytics', view: AnalyticsView },
  { path: '/console/ledger', label: 'Ledger', view: LedgerView },
  { path: '/console/clock', label: 'Test clock', view: ClockView },
] as const;

/** The operations console: nothing of it renders before the admin session is open. */
export function ConsolePage({ path }: { path: string }) {
  const [admin, setAdmin] = useState<boolean | null>(null);
  useEffect(() => {
    void api.GET('/admin/session').then(({ data }) => setAdmin(data?.admin ?? false));
    const signedOut = () => setAdmin(false);
    addEventListener(UNAUTHORIZED_EVENT, signedOut);
    return () => removeEventListener(UNAUTHORIZED_EVENT, signedOut);
  }, []);
  if (admin === null) return <div className="console-loading" aria-busy="true" />;
  if (!admin) return <SignIn onSignedIn={() => setAdmin(true)} />;
  return (
    <LiveEventsProvider>
      <ConsoleShell path={path} onSignOut={() => setAdmin(false)} />
    </LiveEventsProvider>
  );
}

function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const { response } = await api.POST('/admin/session', { body: { token } });
    if (response.status === 204) onSignedIn();
    else
      setError(response.status === 401 ? 'That is not the admin token.' : `The platform answered ${response.status}.`);
  };
  return (
    <main className="signin">
      <form className="card" onSubmit={(e) => void submit(e)}>
        <h1>
          <span className="brand-mark" aria-hidden="true" /> Tributary console
        </h1>
        <p className="muted">Operations: the event flow, workflows, consumers, projections and customers.</p>
        <div className="field">
          <label htmlFor="admin-token">Admin token</label>
          <input
            id="admin-token"
            type="password"
            autoComplete="current-password"
            value={token}
            onChange={(e) => setToken(e.target.value)}
            aria-invalid={!!error}
            aria-describedby={error ? 'token-error' : undefined}
          />
          {error ? (
            <p className="field-error" id="token-error" role="alert">
              {error}
            </p>
          ) : null}
        </div>
        <button className="primary" type="submit">
          Sign in
        </button>
      </form>
    </main>
  );
}

function ConsoleShell({ path, onSignOut }: { path: string; onSignOut: () => void }) {
  const { connected } = useLiveEvents();
  const current =
    [...VIEWS].reverse().find((view) => path === view.path || path.startsWith(`${view.path}/`)) ?? VIEWS[0];
  const View = current.view;
  return (
    <div className="console">
      <aside className="sidebar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" /> Tributary
        </div>
        <nav aria-label="Console">
          <ul>
            {VIEWS.map((view) => (
              <li key={view.path}>
                <a
                  href={view.path}
                  aria-current={view === current ? 'page' : undefined}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate(view.path);
                  }}
                >
                  {view.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="sidebar-foot">
          <span className={`live-dot ${connected ? 'on' : 'off'}`} aria-hidden="true" />{' '}
          {connected ? 'Live' : 'Connecting…'}
          <button type="button" className="link" onClick={() => void api.DELETE('/admin/session').then(onSignOut)}>
            Sign out
          </button>
        </div>
      </aside>
      <main className="console-main">
        <h1 className="view-title">{current.label}</h1>
        <Suspense fallback={<p className="muted">Loading…</p>}>
          <View />
        </Suspense>
      </main>
    </div>
  );
}
