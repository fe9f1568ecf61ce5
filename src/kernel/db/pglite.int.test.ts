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

describe('openPglite, its thread seen from this one', () => {
  it('answers statements with their rows and their errors with PostgreSQL’s fields', async () => {
    const db = await openPglite();
    try {
      await db.exec('create table t (id int primary key, doc jsonb, at timestamptz)');
      const at = new Date('2026-01-02T03:04:05Z');
      await db.query('insert into t values ($1, $2, $3)', [1, { a: [1, 2], toJSON: () => ({ kept: true }) }, at]);
      expect((await db.query('select * from t')).rows).toEqual([{ id: 1, doc: { kept: true }, at }]);
      const failure = await db.query('insert into t values (1, null, null)').catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(Error);
      expect(failure).toMatchObject({ code: '23505', constraint: 't_pkey', table: 't' });
    } finally {
      await db.close();
    }
  });

  it('commits a transaction that resolves, rolls back one that throws, and runs onCommit only after a commit', async () => {
    const db = await openPglite();
    try {
      await db.exec('create table n (v int)');
      const committed: string[] = [];
      await db.transaction(async (tx) => {
        await tx.query('insert into n values (1)');
        tx.onCommit(() => committed.push('first'));
      });
      const thrown = new Error('no');
      await expect(
        db.transaction(async (tx) => {
          await tx.query('insert into n values (2)');
          tx.onCommit(() => committed.push('second'));
          throw thrown;
        }),
      ).rejects.toBe(thrown);
      expect((await db.query('select v from n')).rows).toEqual([{ v: 1 }]);
      expect(committed).toEqual(['first']);
    } finally {
      await db.close();
    }
  });

  it('calls a listener at a notification, stops at its unlisten, and refuses statements once closed', async () => {
    const db = await openPglite();
    let heard = 0;
    const unlisten = db.listen('wake', () => heard++);
    await db.query("select pg_notify('wake_public', '')");
    await expect.poll(() => heard).toBe(1);
    await unlisten();
    await db.query("select pg_notify('wake_public', '')");
    await db.query('select 1');
    expect(heard).toBe(1);
    await db.close();
    await expect(db.query('select 1')).rejects.toThrow(/stopped/);
  });
});

describe('openPglite on a folder that holds no usable database', () => {
  it('fails with the folder named', async () => {
    const root = await mkdtemp(join(tmpdir(), 'pglite-'));
    try {
      await mkdir(join(root, 'store'));
      await writeFile(join(root, 'store', 'PG_VERSION'), '17'); // a database's marker, and nothing else
      await expect(openPglite(join(root, 'store'))).rejects.toThrow(/could not open .*store/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
