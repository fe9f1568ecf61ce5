import { describe, expect, it } from 'vitest';
import { runCampaign, type Backend } from '../src/chaos/campaign.ts';
import { chaosTable } from '../src/chaos/chaos-command-table.ts';
import { postgresAvailable, TEST_DATABASE_URL } from './support/postgres.ts';

/**
 * The fixed CI set of the fault campaign: 30 in-process schedules (faulty gateway) and 5 with the
 * platform process SIGKILLed, on PGlite and on PostgreSQL; verify must be clean after each. Short
 * schedules (6 steps and the final month) keep it within minutes. A failing seed replays with
 * `npm run chaos -- --seed S [--kills] --backend B`.
 */
const IN_PROCESS_SEEDS = Array.from({ length: 30 }, (_, i) => 1 + i);
const KILL_SEEDS = Array.from({ length: 5 }, (_, i) => 101 + i);
const progress = (line: string) => console.error(line);

function chaosSuite(backend: Backend) {
  describe(`fault campaign on ${backend}`, async () => {
    const skip = backend === 'postgres' && !(await postgresAvailable());
    const databaseUrl = TEST_DATABASE_URL;

    it.skipIf(skip)(
      'leaves every money invariant intact after 30 schedules against a faulty gateway',
      async () => {
        const results = await runCampaign({
          seeds: IN_PROCESS_SEEDS,
          backend,
          kills: false,
          databaseUrl,
          length: 6,
          // A workflow parked by refused refunds is due again within its backoff (up to ~16 s here).
          settleMs: 30_000,
          progress,
        });
        expect(results).toHaveLength(30);
        expect(results.reduce((sum, r) => sum + r.workflows, 0)).toBeGreaterThan(30);
        expect(results.some((r) => Object.values(r.faults).some((n) => n > 0))).toBe(true);
        expect(
          results.flatMap((r) => r.violations),
          chaosTable(results, `${backend}, in process`),
        ).toEqual([]);
      },
      900_000,
    );

    it.skipIf(skip)(
      'leaves every money invariant intact after 5 schedules whose platform was SIGKILLed and restarted',
      async () => {
        const results = await runCampaign({
          seeds: KILL_SEEDS,
          backend,
          kills: true,
          databaseUrl,
          length: 6,
          settleMs: 20_000,
          progress,
        });
        expect(results.map((r) => r.kills)).toEqual([1, 1, 1, 1, 1]);
        expect(
          results.flatMap((r) => r.violations),
          chaosTable(results, `${backend}, kills`),
        ).toEqual([]);
      },
      900_000,
    );
  });
}

chaosSuite('pglite');
chaosSuite('postgres');
