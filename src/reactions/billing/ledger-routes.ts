import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { NotFoundError, requireAdmin } from '../../http/auth.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Database } from '../../kernel/db/database.ts';
import { accountOf, CHART } from './ledger/accounts.ts';
import { accountStatement, listEntries, trialBalance } from './ledger/ledger-queries.ts';
import type { ClockDrivenJob } from '../../kernel/clock-driven-job.ts';
import { problem } from '../../http/problem-schema.ts';
import { instant } from '../../http/input-schemas.ts';

const lineView = z.object({
  line: z.int(),
  account: z.string(),
  accountName: z.string(),
  amount: z.int().describe('debit > 0, credit < 0'),
  debit: z.int(),
  credit: z.int(),
});
const entryView = z.object({
  id: z.string(),
  seq: z.int(),
  sourceId: z.string().describe('the event the entry answers (recognition: the charge)'),
  kind: z.enum(['charge', 'settlement', 'recognition', 'refund']),
  part: z.int().describe('recognition: the day of the service period'),
  paymentId: z.string(),
  customerId: z.string(),
  currency: z.string(),
  description: z.string(),
  effectiveAt: z.string(),
  postedAt: z.string(),
  lines: z.array(lineView),
});
const balanceView = z.object({
  code: z.string(),
  name: z.string(),
  currency: z.string(),
  debits: z.int(),
  credits: z.int(),
  balance: z.int().describe('debits - credits'),
});
const accountView = z.object({
  code: z.string(),
  name: z.string(),
  type: z.enum(['asset', 'liability', 'revenue', 'contra_revenue']),
  normalBalance: z.enum(['debit', 'credit']),
});
const statementView = accountView.extend({
  asOf: z.string(),
  balances: z.array(z.object({ currency: z.string(), debits: z.int(), credits: z.int(), balance: z.int() })),
});

const page = {
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z
    .string()
    .regex(/^\d{1,15}$/, 'cursor: the nextCursor of the previous page')
    .optional(),
};

const entriesQuery = z.object({
  paymentId: z.uuid().optional(),
  customerId: z.uuid().optional(),
  sourceId: z.uuid().optional(),
  kind: z.enum(['charge', 'settlement', 'recognition', 'refund']).optional(),
  account: z
    .string()
    .regex(/^\d{4}$/)
    .optional(),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .optional(),
  from: instant.optional().describe('effective at or after'),
  to: instant.optional().describe('effective before'),
  ...page,
});

/** GET /ledger/entries, /ledger/trial-balance, /ledger/accounts[/{code}] (admin). Each first posts the revenue earned by now. */
export const ledgerRoutes =
  (deps: { db: Database; clock: Clock; recognizer: ClockDrivenJob }) => (app: FastifyInstance) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    const asOfOf = (asOf: string | undefined) => (asOf === undefined ? deps.clock.now() : new Date(asOf));

    api.get(
      '/ledger/entries',
      {
        schema: {
          tags: ['billing'],
          summary: 'Journal entries in posting order, with their lines (admin)',
          security: [{ bearer: [] }],
          querystring: entriesQuery,
          response: {
            200: z.object({ entries: z.array(entryView), nextCursor: z.string().nullable() }),
            400: problem,
            401: problem,
          },
        },
      },
      async (request) => {
        requireAdmin(request);
        await deps.recognizer.catchUp();
        const { from, to, cursor, ...filter } = request.query;
        const entries = await listEntries(deps.db, {
          ...filter,
          from: from === undefined ? undefined : new Date(from),
          to: to === undefined ? undefined : new Date(to),
          afterSeq: cursor === undefined ? undefined : Number(cursor),
        });
        return {
          entries,
          nextCursor: entries.length === filter.limit ? String(entries[entries.length - 1]!.seq) : null,
        };
      },
    );

    api.get(
      '/ledger/trial-balance',
      {
        schema: {
          tags: ['billing'],
          summary:
            'Debits and credits of every account as of an instant, per currency; debits always equal credits (admin)',
          security: [{ bearer: [] }],
          querystring: z.object({ asOf: instant.optional().describe('default: now, by the platform clock') }),
          response: {
            200: z.object({
              asOf: z.string(),
              currencies: z.array(
                z.object({
                  currency: z.string(),
                  accounts: z.array(balanceView),
                  totalDebits: z.int(),
                  totalCredits: z.int(),
                  balanced: z.boolean(),
                }),
              ),
            }),
            400: problem,
            401: problem,
          },
        },
      },
      async (request) => {
        requireAdmin(request);
        await deps.recognizer.catchUp();
        return trialBalance(deps.db, asOfOf(request.query.asOf));
      },
    );

    api.get(
      '/ledger/accounts',
      {
        schema: {
          tags: ['billing'],
          summary: 'The chart of accounts (admin)',
          security: [{ bearer: [] }],
          response: { 200: z.object({ accounts: z.array(accountView) }), 401: problem },
        },
      },
      async (request) => {
        requireAdmin(request);
        return { accounts: [...CHART] };
      },
    );

    api.get(
      '/ledger/accounts/:code',
      {
        schema: {
          tags: ['billing'],
          summary: "An account's balance per currency as of an instant, and its entries (admin)",
          security: [{ bearer: [] }],
          params: z.object({ code: z.string().max(16) }),
          querystring: z.object({
            asOf: instant.optional(),
            currency: z
              .string()
              .regex(/^[A-Z]{3}$/)
              .optional(),
            ...page,
          }),
          response: {
            200: statementView.extend({ entries: z.array(entryView), nextCursor: z.string().nullable() }),
            400: problem,
            401: problem,
            404: problem,
          },
        },
      },
      async (request) => {
        requireAdmin(request);
        const account = accountOf(request.params.code);
        if (!account) throw new NotFoundError(`no account ${request.params.code}`);
        await deps.recognizer.catchUp();
        const { asOf, currency, limit, cursor } = request.query;
        const at = asOfOf(asOf);
        const statement = await accountStatement(deps.db, account, at);
        const entries = await listEntries(deps.db, {
          account: account.code,
          currency,
          to: new Date(at.getTime() + 1),
          limit,
          afterSeq: cursor === undefined ? undefined : Number(cursor),
        });
        return {
          ...statement,
          entries,
          nextCursor: entries.length === limit ? String(entries[entries.length - 1]!.seq) : null,
        };
      },
    );
  };
