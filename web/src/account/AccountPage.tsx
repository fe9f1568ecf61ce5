import { useCallback, useEffect, useState } from 'react';
import { customerApi, customerSession, problemText } from '../api/client.ts';
import { TEST_CARDS } from '../signup/test-cards.ts';
import { ConfirmDialog } from '../ui/ConfirmDialog.tsx';
import { date, dateTime, money } from '../ui/format.ts';
import { navigate } from '../ui/router.ts';

type Loaded = Awaited<ReturnType<typeof load>>;

async function load(customerId: string, subscriptionId: string, minPosition?: number) {
  const query = minPosition ? { minPosition } : {};
  const [subscription, customer, invoices, emails] = await Promise.all([
    customerApi.GET('/subscriptions/{id}', { params: { path: { id: subscriptionId }, query } }),
    customerApi.GET('/customers/{id}', { params: { path: { id: customerId }, query } }),
    customerApi.GET('/invoices', { params: { query: { customerId } } }),
    customerApi.GET('/customers/{id}/emails', { params: { path: { id: customerId }, query: {} } }),
  ]);
  return {
    subscription: subscription.data,
    customer: customer.data,
    invoices: invoices.data?.invoices ?? [],
    emails: emails.data?.emails ?? [],
    error: subscription.error ?? customer.error,
  };
}

const EMAIL_KINDS: Record<string, string> = {
  'welcome-email': 'Welcome',
  'payment-receipt': 'Payment receipt',
  'renewal-notice': 'Renewal notice',
};

/** Downloads a PDF that needs the bearer token (a plain link cannot carry it). */
async function downloadPdf(invoiceId: string, number: string): Promise<void> {
  const response = await fetch(`/invoices/${encodeURIComponent(invoiceId)}.pdf`, {
    headers: { authorization: `Bearer ${customerSession.token() ?? ''}` },
  });
  if (!response.ok) throw new Error(`the invoice could not be downloaded (${response.status})`);
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement('a'), { href: url, download: `${number}.pdf` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function AccountPage() {
  const session = customerSession.get();
  const [data, setData] = useState<Loaded | null>(null);
  const [confirm, setConfirm] = useState<'now' | 'end' | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [card, setCard] = useState<string>(TEST_CARDS[1].token);

  const refresh = useCallback(
    (minPosition?: number) => {
      if (session) void load(session.customerId, session.subscriptionId, minPosition).then(setData);
    },
    [session?.customerId, session?.subscriptionId], // eslint-disable-line react-hooks/exhaustive-deps
  );
  useEffect(() => refresh(), [refresh]);

  if (!session) {
    return (
      <Shell>
        <section className="card">
          <h1>Your account</h1>
          <p>This browser tab holds no sign-in. Sign up first; your account opens here afterwards.</p>
          <a className="button primary" href="/" onClick={(e) => (e.preventDefault(), navigate('/'))}>
            Sign up
          </a>
        </section>
      </Shell>
    );
  }

  const subscription = data?.subscription;
  const cancel = async (atPeriodEnd: boolean) => {
    const { data: result, error } = await customerApi.POST('/subscriptions/{id}/cancel', {
      params: { path: { id: session.subscriptionId } },
      body: { atPeriodEnd, reason: 'cancelled by the customer' },
    });
    setMessage(
      error
        ? { ok: false, text: problemText(error) }
        : {
            ok: true,
            text: atPeriodEnd
              ? 'Your subscription will end at the end of this period.'
              : 'Your subscription is cancelled.',
          },
    );
    refresh(result?.position ?? undefined);
  };
  const changeCard = async () => {
    const { error } = await customerApi.PUT('/customers/{id}/payment-method', {
      params: { path: { id: session.customerId } },
      body: { paymentMethod: card },
    });
    setMessage(
      error
        ? { ok: false, text: problemText(error) }
        : { ok: true, text: 'Your card was updated: renewals are charged to it from now on.' },
    );
  };

  return (
    <Shell>
      <h1>Your account</h1>
      {data?.customer ? (
        <p className="lead">
          {data.customer.name ?? ''} · {data.customer.email ?? ''}
        </p>
      ) : null}
      {message ? (
        <p className={`notice ${message.ok ? 'notice-ok' : 'notice-bad'}`} role="status">
          {message.text}
        </p>
      ) : null}
      {data?.error ? <p className="notice notice-bad">{problemText(data.error)}</p> : null}
      <div className="account-grid">
        <section className="card" aria-labelledby="subscription-heading">
          <h2 id="subscription-heading">Subscription</h2>
          {subscription ? (
            <>
              <dl className="facts">
                <dt>Plan</dt>
                <dd>{subscription.planId}</dd>
                <dt>Status</dt>
                <dd>
                  <span className={`badge badge-${subscription.status}`} data-testid="account-status">
                    {subscription.status}
                  </span>
                  {subscription.cancelAt ? (
                    <span className="muted" data-testid="cancel-at">
                      {' '}
                      · ends {date(subscription.cancelAt)}
                    </span>
                  ) : null}
                </dd>
                <dt>Price</dt>
                <dd>{money(subscription.price.amount, subscription.price.currency)}</dd>
                <dt>Current period</dt>
                <dd>
                  {date(subscription.currentPeriod.start)} – {date(subscription.currentPeriod.end)}
                </dd>
              </dl>
              {subscription.status === 'active' && !subscription.cancelAt ? (
                <div className="actions">
                  <button type="button" onClick={() => setConfirm('end')}>
                    Cancel at period end
                  </button>
                  <button type="button" className="danger" onClick={() => setConfirm('now')}>
                    Cancel now
                  </button>
                </div>
              ) : null}
            </>
          ) : (
            <p className="muted">Loading…</p>
          )}
        </section>
        <section className="card" aria-labelledby="card-heading">
          <h2 id="card-heading">Payment method</h2>
          <div className="field">
            <label htmlFor="new-card">New card (test mode)</label>
            <select id="new-card" value={card} onChange={(e) => setCard(e.target.value)}>
              {TEST_CARDS.map((option) => (
                <option key={option.token} value={option.token}>
                  {option.label} — {option.effect}
                </option>
              ))}
            </select>
          </div>
          <button type="button" onClick={() => void changeCard()}>
            Change card
          </button>
        </section>
      </div>
      <section className="card" aria-labelledby="invoices-heading">
        <h2 id="invoices-heading">Invoices</h2>
        {data && data.invoices.length === 0 ? (
          <p className="muted">No invoice yet: it is issued a moment after the payment.</p>
        ) : null}
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Number</th>
              <th scope="col">Issued</th>
              <th scope="col">For</th>
              <th scope="col" className="num">
                Total
              </th>
              <th scope="col">PDF</th>
            </tr>
          </thead>
          <tbody>
            {data?.invoices.map((invoice) => (
              <tr key={invoice.id}>
                <td>{invoice.number}</td>
                <td>{date(invoice.issuedAt)}</td>
                <td>{invoice.purpose}</td>
                <td className="num">{money(invoice.total, invoice.currency)}</td>
                <td>
                  <button
                    type="button"
                    className="link"
                    onClick={() =>
                      void downloadPdf(invoice.id, invoice.number).catch((e: Error) =>
                        setMessage({ ok: false, text: e.message }),
                      )
                    }
                  >
                    Download {invoice.number}.pdf
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="card" aria-labelledby="emails-heading">
        <h2 id="emails-heading">Emails</h2>
        {data && data.emails.length === 0 ? (
          <p className="muted">No email yet: the welcome email goes out a moment after the sign-up.</p>
        ) : null}
        <table className="table" aria-label="Emails sent to you">
          <thead>
            <tr>
              <th scope="col">Type</th>
              <th scope="col">Subject</th>
              <th scope="col">When</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {data?.emails.map((email) => (
              <tr key={email.id} data-email-type={email.type}>
                <td>{EMAIL_KINDS[email.type] ?? email.type}</td>
                <td>{email.subject ?? '—'}</td>
                <td>{dateTime(email.createdAt)}</td>
                <td>
                  <span className={`badge badge-email-${email.status}`}>{email.status}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {confirm && subscription ? (
        <ConfirmDialog
          title={confirm === 'end' ? 'Cancel at the end of this period?' : 'Cancel now?'}
          confirm={confirm === 'end' ? 'Cancel at period end' : 'Cancel now'}
          danger={confirm === 'now'}
          onClose={() => setConfirm(null)}
          onConfirm={() => void cancel(confirm === 'end')}
        >
          {confirm === 'end' ? (
            <p>
              You keep your subscription until <strong>{date(subscription.currentPeriod.end)}</strong>. You will not be
              charged again, and nothing already paid is refunded.
            </p>
          ) : (
            <p>
              Your subscription ends today. The current period, paid until {date(subscription.currentPeriod.end)}, is{' '}
              <strong>not refunded</strong>, and you will not be charged again.
            </p>
          )}
        </ConfirmDialog>
      ) : null}
    </Shell>
  );
}

function Shell({ children }: { children: React.ReactNode }) {
  return (
    <div className="public">
      <header className="public-header">
        <a className="brand" href="/" onClick={(e) => (e.preventDefault(), navigate('/'))}>
          <span className="brand-mark" aria-hidden="true" /> Tributary
        </a>
        <nav aria-label="Site">
          <button
            type="button"
            className="link"
            onClick={() => {
              customerSession.clear();
              navigate('/');
            }}
          >
            Sign out
          </button>
        </nav>
      </header>
      <main className="account">{children}</main>
    </div>
  );
}
