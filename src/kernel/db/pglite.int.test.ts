import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
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

  it('removes the copies a crashed start left beside the store, not those of a process still running', async () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!; // a process that has exited; this one's parent runs
    for (const pid of [gone, process.ppid]) {
      await mkdir(join(root, `store.${pid}.new`));
      await writeFile(join(root, `store.${pid}.new`, 'PG_VERSION'), '17');
    }
    await mkdir(join(root, 'store.backup.new')); // not a copy's name: left alone

    const db = await openPglite(join(root, 'store'));
    await db.close();
    expect((await readdir(root)).sort()).toEqual(['store', 'store.backup.new', `store.${process.ppid}.new`].sort());
  });
});
