import { uuidv7 } from '../../../kernel/ids.ts';
import type { Sql } from '../../../kernel/db/database.ts';
import { accountOf, type AccountCode } from './accounts.ts';

export type EntryKind = 'charge' | 'settlement' | 'recognition' | 'refund';

/** A signed amount in minor units: a debit is positive, a credit negative. */
export interface JournalLine {
  account: AccountCode;
  amount: number;
}

export interface JournalEntry {
  /** The event the entry answers (for recognition: the charge's event). */
  sourceId: string;
  kind: EntryKind;
  /** Distinguishes entries of one source and kind: the day of the service period for recognition. */
  part: number;
  paymentId: string;
  customerId: string;
  currency: string;
  description: string;
  effectiveAt: Date;
  lines: JournalLine[];
}

/** A posting that does not balance, or is not money: never written (the handler fails, the event is dead-lettered). */
export class UnbalancedEntryError extends Error {
  override readonly name = 'UnbalancedEntryError';
}

export const debit = (account: AccountCode, amount: number): JournalLine => ({ account, amount });
export const credit = (account: AccountCode, amount: number): JournalLine => ({ account, amount: -amount });

/** Lines of zero are left out (a tax line when there is no tax, the recognised part of a refund before any day passed). */
export const nonZero = (...lines: JournalLine[]): JournalLine[] => lines.filter((line) => line.amount !== 0);

/** Checks an entry before it is written: known accounts, integer minor units, at least two lines, summing to zero. */
export function assertBalanced(entry: JournalEntry): void {
  const where = `${entry.kind} entry of ${entry.sourceId}${entry.part ? `#${entry.part}` : ''}`;
  if (!/^[A-Z]{3}$/.test(entry.currency))
    throw new UnbalancedEntryError(`${where}: currency ${JSON.stringify(entry.currency)} is not an ISO 4217 code`);
  if (entry.lines.length < 2) throw new UnbalancedEntryError(`${where}: a journal entry needs at least two lines`);
  let sum = 0n;
  for (const line of entry.lines) {
    if (!accountOf(line.account)) throw new UnbalancedEntryError(`${where}: unknown account ${line.account}`);
    if (!Number.isSafeInteger(line.amount) || line.amount === 0)
      throw new UnbalancedEntryError(
        `${where}: ${line.account} amount ${line.amount} is not a non-zero integer of minor units`,
      );
    sum += BigInt(line.amount);
  }
  if (sum !== 0n) throw new UnbalancedEntryError(`${where}: debits and credits differ by ${sum} ${entry.currency}`);
}

/**
 * Writes entries whose key (source, kind, part) is new, in the caller's transaction; returns the
 * keys written. Every entry is checked first, so an unbalanced one writes nothing at all.
 */
export async function postEntries(tx: Sql, entries: readonly JournalEntry[], postedAt: Date): Promise<JournalEntry[]> {
  if (entries.length === 0) return [];
  for (const entry of entries) assertBalanced(entry);
  const ids = entries.map(() => uuidv7());
  const { rows } = await tx.query<{ id: string }>(
    `insert into journal_entries (id, source_id, kind, part, payment_id, customer_id, currency, description, effective_at, posted_at)
     select e.id, e.source_id, e.kind, e.part, e.payment_id, e.customer_id, e.currency, e.description, e.effective_at, $10
     from unnest($1::uuid[], $2::uuid[], $3::text[], $4::int[], $5::uuid[], $6::uuid[], $7::text[], $8::text[], $9::timestamptz[])
       as e(id, source_id, kind, part, payment_id, customer_id, currency, description, effective_at)
     on conflict (source_id, kind, part) do nothing
     returning id`,
    [
      ids,
      entries.map((entry) => entry.sourceId),
      entries.map((entry) => entry.kind),
      entries.map((entry) => entry.part),
      entries.map((entry) => entry.paymentId),
      entries.map((entry) => entry.customerId),
      entries.map((entry) => entry.currency),
      entries.map((entry) => entry.description),
      entries.map((entry) => entry.effectiveAt.toISOString()),
      postedAt,
    ],
  );
  const written = new Set(rows.map((row) => row.id));
  const posted = entries.filter((_, index) => written.has(ids[index]!));
  const lines = entries.flatMap((entry, index) =>
    written.has(ids[index]!)
      ? entry.lines.map((line, number) => ({ entryId: ids[index]!, number: number + 1, line, entry }))
      : [],
  );
  if (lines.length > 0) {
    await tx.query(
      `insert into journal_lines (entry_id, line, account, currency, amount, effective_at)
       select * from unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::int8[], $6::timestamptz[])`,
      [
        lines.map((l) => l.entryId),
        lines.map((l) => l.number),
        lines.map((l) => l.line.account),
        lines.map((l) => l.entry.currency),
        lines.map((l) => l.line.amount),
        lines.map((l) => l.entry.effectiveAt.toISOString()),
      ],
    );
  }
  return posted;
}

export async function entryExists(
  sql: Sql,
  key: { sourceId: string; kind: EntryKind; part?: number },
): Promise<boolean> {
  const { rows } = await sql.query('select 1 from journal_entries where source_id = $1 and kind = $2 and part = $3', [
    key.sourceId,
    key.kind,
    key.part ?? 0,
  ]);
  return rows.length > 0;
}
