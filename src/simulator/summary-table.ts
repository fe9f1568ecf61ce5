import type { Figure, MoneyFigure, SimulationSummary } from './platform-report.ts';

const money = ({ currency, amount }: MoneyFigure): string => {
  const format = new Intl.NumberFormat('en', { style: 'currency', currency });
  return format.format(amount / 10 ** (format.resolvedOptions().maximumFractionDigits ?? 2));
};

const percent = (part: number, whole: number) => (whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)}%`);

/** Columns padded to their widest cell: text columns (`left`) to the left, figures to the right. */
function table(rows: string[][], left: readonly number[] = [0]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => (left.includes(column) ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The end-of-run summary: what happened, and where each figure comes from. */
export function formatSummary(
  summary: SimulationSummary,
  run: { seed: number; customers: number; months: number },
): string {
  const { result } = summary;
  const figure = (label: string, { value, source }: Figure) => [label, value === null ? 'n/a' : String(value), source];
  const rows = [
    ['', 'count', 'source'],
    figure('registrations', summary.registrations),
    figure('declined at sign-up', summary.declines),
    ...(summary.failedRegistrations.value ? [figure('failed registrations', summary.failedRegistrations)] : []),
    figure('renewals', summary.renewals),
    figure('cancelled now', summary.cancellations.now),
    figure('cancelled at period end', summary.cancellations.atPeriodEnd),
    figure('cancelled: payment failed', summary.cancellations.paymentFailed),
    ...summary.mrr.flatMap(({ figures, source }) => figures.map((mrr) => [`MRR ${mrr.currency}`, money(mrr), source])),
  ];
  const statuses = Object.entries(summary.statuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, count]) => `${count} ${status}`)
    .join(', ');
  const planRows = [
    ['plan', 'subscriptions', 'renewals', 'cancelled', 'payment failed', 'cancelled per period'],
    ...summary.plans.map((plan) => [
      plan.planId === result.riskyPlan.id ? `${plan.planId} (planted: churns more)` : plan.planId,
      String(plan.subscriptions),
      String(plan.renewals),
      String(plan.voluntaryCancellations),
      String(plan.paymentFailedCancellations),
      percent(plan.voluntaryCancellations, plan.renewals + plan.voluntaryCancellations),
    ]),
  ];
  return [
    `Simulated ${run.customers} customers over ${run.months} months (seed ${run.seed}): test clock ${result.startedAt} → ${result.endedAt}`,
    '',
    table(rows, [0, 2]),
    ...(statuses ? ['', `Subscriptions now: ${statuses}`] : []),
    '',
    table(planRows),
    '',
    `Simulator's own requests: ${result.observed.cancelRequests.now} cancellations now, ${result.observed.cancelRequests.atPeriodEnd} at period end, ${result.observed.cancelsTooLate} too late (already over), ${result.observed.cardsFailing} cards set to fail, ${result.observed.cardsFixed} fixed, ${result.observed.customersGone} actions on customers already erased.`,
    '',
  ].join('\n');
}
