import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPglite } from './pglite.ts';

describe('openPglite on a folder', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'pglite-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('makes a new database where there was none (parents created), keeps what is written and leaves nothing beside it', async () => {
    const store = join(root, 'a', 'b', 'store');
    const first = await openPglite(store);
    await first.exec('create table kept (n integer)');
    await first.query('insert into kept values (42)');
    await first.close();

    const again = await openPglite(store);
    expect((await again.query<{ n: number }>('select n from kept')).rows).toEqual([{ n: 42 }]);
    await again.close();
    expect(await readdir(join(root, 'a', 'b'))).toEqual(['store']);
  });

  it('makes a new database in a folder that exists and is empty', async () => {
    const store = join(root, 'store');
    await mkdir(store);
    const db = await openPglite(store);
    expect((await db.query<{ one: number }>('select 1 as one')).rows).toEqual([{ one: 1 }]);
    await db.close();
  });
});
