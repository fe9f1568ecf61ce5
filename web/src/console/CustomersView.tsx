import { useState, type FormEvent } from 'react';
import { api, problemText, type paths } from '../api/client.ts';
import { ConfirmDialog } from '../ui/ConfirmDialog.tsx';
import { date, dateTime, money, shortId } from '../ui/format.ts';
import { usePoll } from './use-poll.ts';

/**
 * Customers by email; a customer's subscriptions, invoices, emails, journal entries, audit records
 * and events on one page.
 */
export function CustomersView() {
  const [email, setEmail] = useState('');
  const [query, setQuery] = useState('');
  const [open, setOpen] = useState<string | null>(null);
  const { data } = usePoll(
    async () =>
      (await api.GET('/customers', { params: { query: { limit: 50, ...(query ? { email: query } : {}) } } })).data
        ?.customers,
    0,
    [query],
  );
  const search = (event: FormEvent) => {
    event.preventDefault();
    setQuery(email.trim().toLowerCase());
  };
  return (
    <div className="split">
      <section>
        <form className="filters" onSubmit={search} role="search">
          <div className="field">
            <label htmlFor="customer-email">Email</label>
            <input id="customer-email" type="search" value={email} onChange={(e) => setEmail(e.target.value)} />
          </div>
          <button type="submit">Search</button>
        </form>
        <table className="table" aria-label="Customers">
          <thead>
            <tr>
              <th scope="col">Customer</th>
              <th scope="col">Email</th>
              <th scope="col">Status</th>
              <th scope="col">Since</th>
            </tr>
          </thead>
          <tbody>
            {data?.map((c) => (
              <tr key={c.customerId}>
                <td>
                  <button type="button" className="link" onClick={() => setOpen(c.customerId)}>
                    {c.name ?? shortId(c.customerId)}
                  </button>
                </td>
                <td>{c.email ?? '—'}</td>
                <td>
                  <span className={`badge badge-${c.status}`}>{c.status}</span>
                </td>
                <td>{date(c.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <aside className="card detail-panel">
        {open ? <CustomerDetail id={open} /> : <p className="muted">Open a customer.</p>}
      </aside>
    </div>
  );
}

const LEDGER_LIMIT = 1000;

type LedgerEntry = paths['/ledger/entries']['get']['responses'][200]['content']['application/json']['entries'][number];

/** The amount an entry moves: its debits (a journal entry's debits equal its credits). */
const entryAmount = (entry: LedgerEntry) => entry.lines.reduce((sum, line) => sum + line.debit, 0);

/**
 * A customer's journal entries on the timeline: charges, settlements and refunds one by one; the
 * daily revenue recognition of a payment as one line (its days so far and their total).
 */
function ledgerItems(entries: readonly LedgerEntry[]) {
  const items = entries
    .filter((e) => e.kind !== 'recognition')
    .map((e) => ({
      at: e.effectiveAt,
      kind: 'ledger',
      text: `Ledger ${e.kind}: ${e.description} (${money(entryAmount(e), e.currency)})`,
    }));
  const recognised = new Map<string, { at: string; days: number; amount: number; currency: string }>();
  for (const e of entries.filter((entry) => entry.kind === 'recognition')) {
    const sum = recognised.get(e.paymentId) ?? { at: e.effectiveAt, days: 0, amount: 0, currency: e.currency };
    recognised.set(e.paymentId, {
      at: e.effectiveAt > sum.at ? e.effectiveAt : sum.at,
      days: sum.days + 1,
      amount: sum.amount + entryAmount(e),
      currency: e.currency,
    });
  }
  for (const [paymentId, sum] of recognised) {
    const days = `${sum.days} day${sum.days === 1 ? '' : 's'}`;
    items.push({
      at: sum.at,
      kind: 'ledger',
      text: `Ledger recognition: ${days} of payment ${shortId(paymentId)} earned (${money(sum.amount, sum.currency)})`,
    });
  }
  return items;
}

function CustomerDetail({ id }: { id: string }) {
  const [confirm, setConfirm] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const { data, reload } = usePoll(
    async () => {
      const [customer, subscriptions, invoices, events, audit, emails, ledger] = await Promise.all([
        api.GET('/customers/{id}', { params: { path: { id } } }),
        api.GET('/subscriptions', { params: { query: { customerId: id } } }),
        api.GET('/invoices', { params: { query: { customerId: id } } }),
        api.GET('/admin/events', { params: { query: { customer: id, limit: 100 } } }),
        api.GET('/audit', { params: { query: { subject: id } } }),
        // By customer id: an erased customer's emails stay listed (without the address).
        api.GET('/customers/{id}/emails', { params: { path: { id }, query: {} } }),
        api.GET('/ledger/entries', { params: { query: { customerId: id, limit: LEDGER_LIMIT } } }),
      ]);
      return {
        customer: customer.data,
        subscriptions: subscriptions.data?.subscriptions ?? [],
        invoices: invoices.data?.invoices ?? [],
        events: events.data?.events ?? [],
        audit: audit.data?.records ?? [],
        emails: emails.data?.emails ?? [],
        ledger: ledger.data?.entries ?? [],
        ledgerTruncated: !!ledger.data?.nextCursor,
      };
    },
    0,
    [id],
  );
  if (!data) return <p className="muted">Loading…</p>;
  const erase = async () => {
    const { error } = await api.POST('/customers/{id}/erase', { params: { path: { id } } });
    setMessage(
      error ? problemText(error) : 'Erased: the customer’s key is deleted and no personal data can be read any more.',
    );
    reload();
  };
  const timeline = [
    ...data.events.map((e) => ({ at: e.occurredAt, kind: 'event', text: `${e.type} (${e.streamId})` })),
    ...data.invoices.map((i) => ({
      at: i.issuedAt,
      kind: 'invoice',
      text: `Invoice ${i.number}: ${money(i.total, i.currency)}`,
    })),
    ...data.emails.map((m) => ({
      at: m.createdAt,
      kind: 'email',
      text: `Email ${m.type}: ${m.subject ?? ''} (${m.status})`,
    })),
    ...data.audit.map((a) => ({ at: a.occurredAt, kind: 'audit', text: `Audit: ${a.summary}` })),
    ...ledgerItems(data.ledger),
  ].sort((a, b) => b.at.localeCompare(a.at));
  return (
    <div>
      <h2>{data.customer?.name ?? shortId(id)}</h2>
      <p className="muted">
        {data.customer?.email ?? 'no personal data'} · <span className="mono">{id}</span>
      </p>
      {message ? <p role="status">{message}</p> : null}
      <h3>Subscriptions</h3>
      <ul className="links">
        {data.subscriptions.map((s) => (
          <li key={s.subscriptionId}>
            {s.planId} · <span className={`badge badge-${s.status}`}>{s.status}</span> · until{' '}
            {date(s.currentPeriod.end)}
          </li>
        ))}
      </ul>
      <h3>Timeline</h3>
      {data.ledgerTruncated ? (
        <p className="muted">The ledger lines below are this customer’s first {LEDGER_LIMIT} journal entries.</p>
      ) : null}
      <ol className="timeline">
        {timeline.map((item, i) => (
          <li key={i} className={`timeline-${item.kind}`}>
            <span className="muted">{dateTime(item.at)}</span> {item.text}
          </li>
        ))}
      </ol>
      {data.customer?.status !== 'deleted' ? (
        <button type="button" className="danger" onClick={() => setConfirm(true)}>
          Erase personal data
        </button>
      ) : null}
      {confirm ? (
        <ConfirmDialog
          title="Erase this customer?"
          confirm="Erase"
          danger
          onClose={() => setConfirm(false)}
          onConfirm={() => void erase()}
        >
          <p>
            The customer’s encryption key is deleted: their email and name become unreadable everywhere, for good. Money
            records stay.
          </p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}
