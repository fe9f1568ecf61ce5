import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { api } from '../api/client.ts';
import { date, money } from '../ui/format.ts';
import { usePoll } from './use-poll.ts';

type Metric = 'signups' | 'cancellations' | 'mrr' | 'revenue';

/** MRR and ARR per currency, signups and cancellations over time, churn, cohort retention, the churn model. */
export function AnalyticsView() {
  const { data: summary } = usePoll(async () => (await api.GET('/analytics/summary')).data, 10_000);
  const { data: cohorts } = usePoll(async () => (await api.GET('/analytics/cohorts')).data, 0);
  const { data: model } = usePoll(async () => (await api.GET('/analytics/churn-model')).data, 0);
  return (
    <>
      <div className="kpis">
        <Kpi label="Active subscriptions" value={String(summary?.activeSubscriptions.total ?? '—')} />
        <Kpi label="MRR" value={summary?.mrr.map((m) => money(m.amount, m.currency)).join(' · ') || '—'} />
        <Kpi label="ARR" value={summary?.arr.map((m) => money(m.amount, m.currency)).join(' · ') || '—'} />
        <Kpi label="Signups (30 days)" value={String(summary?.signups ?? '—')} />
        <Kpi label="Cancellations (30 days)" value={String(summary?.cancellations ?? '—')} />
        <Kpi
          label="Churn (30 days)"
          value={summary?.churn.rate == null ? '—' : `${(summary.churn.rate * 100).toFixed(1)} %`}
        />
      </div>
      <div className="cards-grid two">
        {summary ? (
          <>
            <Series metric="signups" title="Signups per week" asOf={summary.asOf} />
            <Series metric="cancellations" title="Cancellations per week" asOf={summary.asOf} />
            <Series metric="mrr" title="MRR per week" asOf={summary.asOf} />
            <Series metric="revenue" title="Revenue per week" asOf={summary.asOf} />
          </>
        ) : null}
      </div>
      <section className="card">
        <h2>Cohort retention</h2>
        <table className="table heatmap" aria-label="Cohort retention by months after signup">
          <thead>
            <tr>
              <th scope="col">Cohort</th>
              <th scope="col" className="num">
                Customers
              </th>
              {Array.from(
                { length: Math.max(0, ...(cohorts?.cohorts.map((c) => c.retention.length) ?? [0])) },
                (_, i) => (
                  <th key={i} scope="col" className="num">
                    M{i}
                  </th>
                ),
              )}
            </tr>
          </thead>
          <tbody>
            {cohorts?.cohorts.map((c) => (
              <tr key={c.month}>
                <th scope="row">{c.month}</th>
                <td className="num">{c.customers}</td>
                {c.retention.map((r) => (
                  <td
                    key={r.monthsAfterSignup}
                    className="num heat"
                    style={{
                      background: `rgba(79, 70, 229, ${(0.08 + r.rate * 0.8).toFixed(2)})`,
                      color: r.rate > 0.55 ? 'white' : undefined,
                    }}
                  >
                    {(r.rate * 100).toFixed(0)}%
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="card">
        <h2>Churn model</h2>
        <p className="muted">
          {model?.examples.total ?? 0} labelled examples, {model?.examples.churned ?? 0} churned.
        </p>
        <table className="table" aria-label="Churn model versions">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Trained</th>
              <th scope="col" className="num">
                Training / test
              </th>
              <th scope="col" className="num">
                AUC
              </th>
              <th scope="col" className="num">
                Log loss
              </th>
            </tr>
          </thead>
          <tbody>
            {model?.versions.map((v) => (
              <tr key={v.version}>
                <td>
                  v{v.version} {v.current ? <span className="badge badge-active">current</span> : null}
                </td>
                <td>{date(v.trainedAt)}</td>
                <td className="num">
                  {v.trainingSize} / {v.testSize}
                </td>
                <td className="num">{v.auc == null ? '—' : v.auc.toFixed(3)}</td>
                <td className="num">{v.logLoss == null ? '—' : v.logLoss.toFixed(3)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}

function Kpi({ label, value }: { label: string; value: string }) {
  return (
    <div className="kpi card">
      <div className="kpi-label">{label}</div>
      <div className="kpi-value">{value}</div>
    </div>
  );
}

const COLORS = ['#4f46e5', '#0ea5e9', '#f59e0b', '#10b981'];

const WINDOW_DAYS = 182;

function Series({ metric, title, asOf }: { metric: Metric; title: string; asOf: string }) {
  const to = asOf.slice(0, 10);
  const from = new Date(new Date(asOf).getTime() - WINDOW_DAYS * 86_400_000).toISOString().slice(0, 10);
  const { data } = usePoll(
    async () =>
      (await api.GET('/analytics/timeseries', { params: { query: { metric, interval: 'week', from, to } } })).data,
    0,
    [metric, from, to],
  );
  const series = data?.series ?? [];
  const rows = (series[0]?.points ?? []).map((point, i) => ({
    start: point.start.slice(0, 10),
    ...Object.fromEntries(
      series.map((s) => [s.currency ?? 'count', (s.points[i]?.value ?? 0) / (s.currency ? 100 : 1)]),
    ),
  }));
  return (
    <section className="card chart">
      <h2>{title}</h2>
      <div className="chart-box">
        <ResponsiveContainer width="100%" height={200}>
          <LineChart data={rows} margin={{ top: 8, right: 12, bottom: 0, left: -12 }}>
            <CartesianGrid stroke="#e5e7eb" strokeDasharray="3 3" />
            <XAxis dataKey="start" fontSize={11} />
            <YAxis fontSize={11} allowDecimals={metric === 'mrr' || metric === 'revenue'} />
            <Tooltip />
            {series.map((s, i) => (
              <Line
                key={s.currency ?? 'count'}
                type="linear"
                dataKey={s.currency ?? 'count'}
                stroke={COLORS[i % COLORS.length]}
                dot={false}
                strokeWidth={2}
                isAnimationActive={false}
              />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </div>
    </section>
  );
}
