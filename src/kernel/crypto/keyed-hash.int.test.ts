import { describe, expect, it } from 'vitest';
import type { Sql } from '../db/database.ts';
import { openPglite } from '../db/pglite.ts';
import { keyedHasher } from './keyed-hash.ts';

describe('keyedHasher', () => {
  it('reads a committed secret once per database, and never keeps one whose creation rolled back', async () => {
    const db = await openPglite();
    await db.exec('create table platform_secrets (name text primary key, value bytea not null)');
    let reads = 0;
    const counted = (sql: Sql): Sql => ({
      ...sql,
      query: <Row>(text: string, params?: unknown[]) => (reads++, sql.query<Row>(text, params)),
    });
    // Created in a transaction that rolls back: the next transaction must not hash with it.
    const rolledBack = await db
      .transaction(async (tx) => {
        const hash = (await keyedHasher(tx, 'test-hmac'))('a');
        throw Object.assign(new Error('rollback'), { hash });
      })
      .catch((error: { hash: string }) => error.hash);
    const first = await db.transaction(async (tx) => (await keyedHasher(tx, 'test-hmac'))('a'));
    expect(first).not.toBe(rolledBack);
    reads = 0;
    const again = await db.transaction(async (tx) => (await keyedHasher(counted(tx), 'test-hmac'))('a'));
    expect(again).toBe(first);
    expect(reads).toBe(2); // committed by the transaction before: now kept by the database
    reads = 0;
    await db.transaction(async (tx) => (await keyedHasher(counted(tx), 'test-hmac'))('a'));
    expect(reads).toBe(0);
    await db.close();
  });
});
