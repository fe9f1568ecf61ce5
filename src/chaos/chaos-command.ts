/**
 * `npm run chaos -- --seeds N [--seed S] [--kills] [--backend pglite|postgres] [--json FILE]`: a
 * fault campaign. Seeded random schedules run against the platform while its gateway injects
 * declines, errors, slow answers, timeouts (before and after the charge) and refused refunds, or,
 * with --kills, while the platform process is SIGKILLed and started again on the same data. After
 * each schedule `verify` must be clean; exit code 1 on any violation. `--seed S` replays one seed.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../kernel/config.ts';
import { runCampaign, type Backend, type SeedResult } from './campaign.ts';
import { FAULT_KINDS } from './schedule.ts';

export function chaosTable(results: readonly SeedResult[], label: string): string {
  const faults = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, results.reduce((sum, r) => sum + (r.faults[kind] ?? 0), 0)]));
  const failing = results.filter((r) => r.violations.length > 0);
  const lines = [
    `| campaign | seeds | workflows | ${FAULT_KINDS.join(' | ')} | kills | violations | failing seeds |`,
    `| --- | --- | --- | ${FAULT_KINDS.map(() => '---').join(' | ')} | --- | --- | --- |`,
    `| ${label} | ${results.length} | ${results.reduce((s, r) => s + r.workflows, 0)} | ${FAULT_KINDS.map((k) => faults[k]).join(' | ')} | ${results.reduce((s, r) => s + r.kills, 0)} | ${failing.reduce((s, r) => s + r.violations.length, 0)} | ${failing.map((r) => r.seed).join(', ') || '—'} |`,
  ];
  for (const result of failing) {
    lines.push('', `seed ${result.seed} (replay: npm run chaos -- --seed ${result.seed}${label.includes('kills') ? ' --kills' : ''}):`);
    for (const violation of result.violations) lines.push(`  ${violation.kind}: ${violation.message}`);
  }
  return lines.join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      seeds: { type: 'string' },
      seed: { type: 'string' },
      kills: { type: 'boolean' },
      backend: { type: 'string' },
      'database-url': { type: 'string' },
      'first-seed': { type: 'string' },
      json: { type: 'string' },
    },
  });
  const backend = (values.backend ?? 'pglite') as Backend;
  if (backend !== 'pglite' && backend !== 'postgres') throw new Error('--backend: pglite or postgres');
  const count = Number(values.seeds ?? 10);
  const first = Number(values['first-seed'] ?? 1);
  if (!Number.isInteger(count) || count < 1) throw new Error('--seeds: a positive number of schedules');
  const seeds = values.seed !== undefined ? [Number(values.seed)] : Array.from({ length: count }, (_, i) => first + i);
  if (seeds.some((seed) => !Number.isSafeInteger(seed))) throw new Error('--seed: an integer');
  const databaseUrl = values['database-url'] ?? loadConfig().databaseUrl;
  const results = await runCampaign({ seeds, backend, kills: values.kills ?? false, databaseUrl, progress: (line) => console.error(line) });
  console.log(chaosTable(results, `${backend}${values.kills ? ', kills' : ', in process'}`));
  if (values.json) await writeFile(values.json, JSON.stringify({ backend, kills: values.kills ?? false, results }, null, 2) + '\n');
  return results.some((r) => r.violations.length > 0) ? 1 : 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(`chaos: ${(error as Error).message}`);
  process.exitCode = 2;
}
