import type { Sql } from '../../../kernel/db/database.ts';
import { CHART, type Account } from './accounts.ts';
import type { EntryKind } from './journal.ts';

export interface AccountBalance {
  code: string;
  name: string;
  currency: string;
  /** Sums of the debit and credit lines, minor units. */
  debits: number;
  credits: number;
  /** debits - credits: positive is a debit balance. */
  balance: number;
}

export interface TrialBalance {
  asOf: string;
  /** One per currency: never added together. */
  currencies: {
    currency: string;
    accounts: AccountBalance[];
    totalDebits: number;
    totalCredits: number;
    balanced: boolean;
  }[];
}

interface BalanceRow {
  account: string;
  currency: string;
  debits: number;
  credits: number;
}

const nameOf = (code: string) => CHART.find((account) => account.code === code)?.name ?? code;

async function balances(sql: Sql, asOf: Date, account?: string): Promise<AccountBalance[]> {
  const params: unknown[] = [asOf];
  const { rows } = await sql.query<BalanceRow>(
    `select account, currency,
            coalesce(sum(amount) filter (where amount > 0), 0)::int8 as debits,
            coalesce(-sum(amount) filter (where amount < 0), 0)::int8 as credits
     from journal_lines where effective_at <= $1 ${account ? `and account = $${params.push(account)}` : ''}
     group by currency, account order by currency, account`,
    params,
  );
  return rows.map((row) => ({
    code: row.account,
    name: nameOf(row.account),
    currency: row.currency,
    debits: Number(row.debits),
    credits: Number(row.credits),
    balance: Number(row.debits) - Number(row.credits),
  }));
}

/** Every account's debits and credits of the entries effective by `asOf`, per currency. */
export async function trialBalance(sql: Sql, asOf: Date): Promise<TrialBalance> {
  const byCurrency = new Map<string, AccountBalance[]>();
  for (const balance of await balances(sql, asOf))
    byCurrency.set(balance.currency, [...(byCurrency.get(balance.currency) ?? []), balance]);
  return {
    asOf: asOf.toISOString(),
    currencies: [...byCurrency].map(([currency, accounts]) => {
      const totalDebits = accounts.reduce((sum, account) => sum + account.debits, 0);
      const totalCredits = accounts.reduce((sum, account) => sum + account.credits, 0);
      return { currency, accounts, totalDebits, totalCredits, balanced: totalDebits === totalCredits };
    }),
  };
}

export interface LedgerLine {
  line: number;
  account: string;
  accountName: string;
  /** Signed: a debit is positive, a credit negative. */
  amount: number;
  debit: number;
  credit: number;
}

export interface LedgerEntry {
  id: string;
  seq: number;
  sourceId: string;
  kind: EntryKind;
  part: number;
  paymentId: string;
  customerId: string;
  currency: string;
  description: string;
  effectiveAt: string;
  postedAt: string;
  lines: LedgerLine[];
}

export interface EntryFilter {
  paymentId?: string;
  customerId?: string;
  sourceId?: string;
  kind?: EntryKind;
  account?: string;
  currency?: string;
  /** Effective from (inclusive) and to (exclusive). */
  from?: Date;
  to?: Date;
  afterSeq?: number;
  limit: number;
}

interface EntryRow {
  id: string;
  seq: number;
  source_id: string;
  kind: EntryKind;
  part: number;
  payment_id: string;
  customer_id: string;
  currency: string;
  description: string;
  effective_at: Date;
  posted_at: Date;
}

/** Journal entries in posting order, with their lines. */
export async function listEntries(sql: Sql, filter: EntryFilter): Promise<LedgerEntry[]> {
  const params: unknown[] = [filter.limit];
  const where: string[] = [];
  const add = (clause: (n: string) => string, value: unknown) => where.push(clause(`$${params.push(value)}`));
  if (filter.paymentId) add((p) => `e.payment_id = ${p}::uuid`, filter.paymentId);
  if (filter.customerId) add((p) => `e.customer_id = ${p}::uuid`, filter.customerId);
  if (filter.sourceId) add((p) => `e.source_id = ${p}::uuid`, filter.sourceId);
  if (filter.kind) add((p) => `e.kind = ${p}`, filter.kind);
  if (filter.currency) add((p) => `e.currency = ${p}`, filter.currency);
  if (filter.account)
    add((p) => `exists (select 1 from journal_lines l where l.entry_id = e.id and l.account = ${p})`, filter.account);
  if (filter.from) add((p) => `e.effective_at >= ${p}`, filter.from);
  if (filter.to) add((p) => `e.effective_at < ${p}`, filter.to);
  if (filter.afterSeq !== undefined) add((p) => `e.seq > ${p}`, filter.afterSeq);
  const { rows } = await sql.query<EntryRow>(
    `select e.id, e.seq, e.source_id, e.kind, e.part, e.payment_id, e.customer_id, e.currency, e.description, e.effective_at, e.posted_at
     from journal_entries e ${where.length ? `where ${where.join(' and ')}` : ''} order by e.seq limit $1`,
    params,
  );
  if (rows.length === 0) return [];
  const { rows: lines } = await sql.query<{ entry_id: string; line: number; account: string; amount: number }>(
    'select entry_id, line, account, amount::int8 as amount from journal_lines where entry_id = any($1::uuid[]) order by entry_id, line',
    [rows.map((row) => row.id)],
  );
  const linesOf = new Map<string, LedgerLine[]>();
  for (const line of lines) {
    const amount = Number(line.amount);
    const list = linesOf.get(line.entry_id) ?? [];
    list.push({
      line: line.line,
      account: line.account,
      accountName: nameOf(line.account),
      amount,
      debit: Math.max(amount, 0),
      credit: Math.max(-amount, 0),
    });
    linesOf.set(line.entry_id, list);
  }
  return rows.map((row) => ({
    id: row.id,
    seq: Number(row.seq),
    sourceId: row.source_id,
    kind: row.kind,
    part: row.part,
    paymentId: row.payment_id,
    customerId: row.customer_id,
    currency: row.currency,
    description: row.description,
    effectiveAt: row.effective_at.toISOString(),
    postedAt: row.posted_at.toISOString(),
    lines: linesOf.get(row.id) ?? [],
  }));
}

export interface AccountStatement extends Account {
  asOf: string;
  balances: { currency: string; debits: number; credits: number; balance: number }[];
}

/** An account and its balance per currency, as of `asOf`. */
export async function accountStatement(sql: Sql, account: Account, asOf: Date): Promise<AccountStatement> {
  const rows = await balances(sql, asOf, account.code);
  return {
    ...account,
    asOf: asOf.toISOString(),
    balances: rows.map(({ currency, debits, credits, balance }) => ({ currency, debits, credits, balance })),
  };
}
