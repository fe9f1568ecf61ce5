import { api } from '../api/client.ts';
import { money } from '../ui/format.ts';
import { usePoll } from './use-poll.ts';

/** The general ledger: trial balance per currency and the chart of accounts. */
export function LedgerView() {
  const { data: balance } = usePoll(
    async () => (await api.GET('/ledger/trial-balance', { params: { query: {} } })).data,
    10_000,
  );
  const { data: accounts } = usePoll(async () => (await api.GET('/ledger/accounts')).data?.accounts, 0);
  return (
    <>
      {balance?.currencies.map((c) => (
        <section className="card" key={c.currency}>
          <h2>
            Trial balance · {c.currency}{' '}
            {c.balanced ? (
              <span className="badge badge-active">balanced</span>
            ) : (
              <span className="badge badge-compensation_failed">unbalanced</span>
            )}
          </h2>
          <table className="table" aria-label={`Trial balance in ${c.currency}`}>
            <thead>
              <tr>
                <th scope="col">Account</th>
                <th scope="col" className="num">
                  Debits
                </th>
                <th scope="col" className="num">
                  Credits
                </th>
                <th scope="col" className="num">
                  Balance
                </th>
              </tr>
            </thead>
            <tbody>
              {c.accounts.map((a) => (
                <tr key={a.code}>
                  <td>
                    <span className="mono">{a.code}</span> {a.name}
                  </td>
                  <td className="num">{money(a.debits, c.currency)}</td>
                  <td className="num">{money(a.credits, c.currency)}</td>
                  <td className="num">{money(a.balance, c.currency)}</td>
                </tr>
              ))}
              <tr className="total">
                <th scope="row">Total</th>
                <td className="num">{money(c.totalDebits, c.currency)}</td>
                <td className="num">{money(c.totalCredits, c.currency)}</td>
                <td />
              </tr>
            </tbody>
          </table>
        </section>
      ))}
      {balance && balance.currencies.length === 0 ? <p className="muted">No journal entry yet.</p> : null}
      <section className="card">
        <h2>Accounts</h2>
        <table className="table" aria-label="Chart of accounts">
          <thead>
            <tr>
              <th scope="col">Code</th>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Normal balance</th>
            </tr>
          </thead>
          <tbody>
            {accounts?.map((a) => (
              <tr key={a.code}>
                <td className="mono">{a.code}</td>
                <td>{a.name}</td>
                <td>{a.type}</td>
                <td>{a.normalBalance}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}
