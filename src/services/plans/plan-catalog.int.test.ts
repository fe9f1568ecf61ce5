import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PLANS_FILE, loadPlans } from './plan-catalog.ts';
import { PlanCatalogError } from './plan.ts';

describe('loadPlans', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-plans-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  const write = async (name: string, text: string) => {
    const file = join(dir, name);
    await writeFile(file, text);
    return file;
  };

  it('loads the shipped default catalog without a source (or an empty one)', async () => {
    const catalog = await loadPlans();
    expect(catalog.require('starter-monthly')).toMatchObject({ currency: 'EUR', interval: 'month', trialDays: 0 });
    expect((await loadPlans('')).list()).toEqual(catalog.list());
    expect(DEFAULT_PLANS_FILE.endsWith('default-plans.json')).toBe(true);
  });

  it('loads a catalog file', async () => {
    const file = await write(
      'ok.json',
      JSON.stringify({
        plans: [
          { id: 'team-yearly', name: 'Team', description: '', amount: 120000, currency: 'GBP', interval: 'year' },
        ],
      }),
    );
    const catalog = await loadPlans(file);
    expect(catalog.list()).toEqual([
      {
        id: 'team-yearly',
        name: 'Team',
        description: '',
        amount: 120000,
        currency: 'GBP',
        interval: 'year',
        trialDays: 0,
      },
    ]);
  });

  it('a bad plan: one error naming the file, the plan and the field', async () => {
    const file = await write(
      'bad.json',
      JSON.stringify({
        plans: [
          { id: 'team-yearly', name: 'Team', description: '', amount: 1200.5, currency: 'GBP', interval: 'year' },
        ],
      }),
    );
    const error = await loadPlans(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlanCatalogError);
    expect((error as Error).message).toBe(
      `invalid plan catalog ${file}: plan "team-yearly": amount: must be an integer number of minor units (cents), e.g. 2900 for 29.00`,
    );
  });

  it('a missing file or invalid JSON: one error naming the file', async () => {
    await expect(loadPlans(join(dir, 'missing.json'))).rejects.toThrow(
      `invalid plan catalog ${join(dir, 'missing.json')}: cannot read: file not found`,
    );
    const file = await write('broken.json', '{ "plans": [');
    await expect(loadPlans(file)).rejects.toThrow(new RegExp(`^invalid plan catalog ${file}: not valid JSON`));
  });
});
