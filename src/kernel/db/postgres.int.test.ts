import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestPostgres, postgresAvailable } from '../../../test/support/postgres.ts';
import type { Database } from './database.ts';

describe('a PostgreSQL transaction, its BEGIN sent with its first statement', async () => {
  const skip = !(await postgresAvailable());
  let db: Database;
  beforeAll(async () => {
    if (skip) return;
    db = await openTestPostgres({ poolSize: 1 }); // every transaction on the same connection
    await db.exec('create table pipelined (n int primary key)');
  });
  afterAll(async () => db?.close());

  it.skipIf(skip)('runs its first statement inside it: a later failure rolls it back', async () => {
    const failing = db.transaction(async (tx) => {
      await tx.query('insert into pipelined values (1)');
      await tx.query('insert into pipelined values (1)'); // a duplicate key
    });
    await expect(failing).rejects.toMatchObject({ code: '23505' });
    expect((await db.query('select n from pipelined')).rows).toEqual([]);
  });

  it.skipIf(skip)('commits what it wrote, and leaves the connection out of any transaction', async () => {
    const inside = await db.transaction(async (tx) => {
      await tx.query('insert into pipelined values (2)');
      return (await tx.query<{ open: boolean }>(`select now() = statement_timestamp() as open`)).rows[0]!.open;
    });
    expect(inside).toBe(false); // now() is the transaction's start, before this statement's
    await db.transaction(async () => {}); // no statement at all
    expect((await db.query<{ n: number }>('select n from pipelined')).rows).toEqual([{ n: 2 }]);
    const { rows } = await db.query<{ open: boolean }>(`select now() = statement_timestamp() as open`);
    expect(rows[0]!.open).toBe(true);
  });
});
