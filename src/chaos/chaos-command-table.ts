import type { SeedResult } from './campaign.ts';
import { FAULT_KINDS } from './schedule.ts';

/** The campaign's table (seeds, workflows, faults by kind, kills, violations) and each failing seed's violations. */
export function chaosTable(results: readonly SeedResult[], label: string): string {
  const faults = Object.fromEntries(
    FAULT_KINDS.map((kind) => [kind, results.reduce((sum, r) => sum + (r.faults[kind] ?? 0), 0)]),
  );
  const failing = results.filter((r) => r.violations.length > 0);
  const lines = [
    `| campaign | seeds | workflows | ${FAULT_KINDS.join(' | ')} | kills | violations | failing seeds |`,
    `| --- | --- | --- | ${FAULT_KINDS.map(() => '---').join(' | ')} | --- | --- | --- |`,
    `| ${label} | ${results.length} | ${results.reduce((s, r) => s + r.workflows, 0)} | ${FAULT_KINDS.map((k) => faults[k]).join(' | ')} | ${results.reduce((s, r) => s + r.kills, 0)} | ${failing.reduce((s, r) => s + r.violations.length, 0)} | ${failing.map((r) => r.seed).join(', ') || '—'} |`,
  ];
  for (const result of failing) {
    lines.push(
      '',
      `seed ${result.seed} (replay: npm run chaos -- --seed ${result.seed}${label.includes('kills') ? ' --kills' : ''}):`,
    );
    for (const violation of result.violations) lines.push(`  ${violation.kind}: ${violation.message}`);
  }
  return lines.join('\n');
}
