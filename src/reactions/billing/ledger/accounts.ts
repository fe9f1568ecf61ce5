/** The chart of accounts (codes as in most charts: 1xxx assets, 2xxx liabilities, 4xxx revenue). */
export const ACCOUNTS = {
  cash: '1000',
  receivable: '1100',
  deferredRevenue: '2100',
  taxPayable: '2200',
  revenue: '4000',
  refunds: '4900',
} as const;

export type AccountCode = (typeof ACCOUNTS)[keyof typeof ACCOUNTS];

export interface Account {
  code: AccountCode;
  name: string;
  type: 'asset' | 'liability' | 'revenue' | 'contra_revenue';
  normalBalance: 'debit' | 'credit';
}

export const CHART: readonly Account[] = [
  { code: '1000', name: 'Cash', type: 'asset', normalBalance: 'debit' },
  { code: '1100', name: 'Accounts Receivable', type: 'asset', normalBalance: 'debit' },
  { code: '2100', name: 'Deferred Revenue', type: 'liability', normalBalance: 'credit' },
  { code: '2200', name: 'Tax Payable', type: 'liability', normalBalance: 'credit' },
  { code: '4000', name: 'Revenue', type: 'revenue', normalBalance: 'credit' },
  { code: '4900', name: 'Refunds', type: 'contra_revenue', normalBalance: 'debit' },
];

export const accountOf = (code: string): Account | undefined => CHART.find((account) => account.code === code);
