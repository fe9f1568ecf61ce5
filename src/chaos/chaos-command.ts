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
import { runCampaign, type Backend } from './campaign.ts';
import { chaosTable } from './chaos-command-table.ts';

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
  const results = await runCampaign({
    seeds,
    backend,
    kills: values.kills ?? false,
    databaseUrl,
    progress: (line) => console.error(line),
  });
  console.log(chaosTable(results, `${backend}${values.kills ? ', kills' : ', in process'}`));
  if (values.json)
    await writeFile(values.json, JSON.stringify({ backend, kills: values.kills ?? false, results }, null, 2) + '\n');
  return results.some((r) => r.violations.length > 0) ? 1 : 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(`chaos: ${(error as Error).message}`);
  process.exitCode = 2;
}
