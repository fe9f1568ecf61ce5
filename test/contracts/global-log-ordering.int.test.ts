import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { LOG_START, type LogPosition } from '../../src/kernel/store/envelope.ts';
import { openStore, type StoreFixture } from '../support/open-store.ts';
import { postgresAvailable } from '../support/postgres.ts';
import { thing } from '../support/test-catalog.ts';
import { waitFor } from '../support/wait-for.ts';

/** A transaction held open until told to commit. */
function openTransaction(fixture: StoreFixture, streamId: string, n: number) {
  let commit!: () => void;
  const release = new Promise<void>((resolve) => (commit = resolve));
  let appended!: () => void;
  const ready = new Promise<void>((resolve) => (appended = resolve));
  const done = fixture.db.transaction(async (tx) => {
    await fixture.store.append(streamId, [thing('c1', n)], { tx });
    appended();
    await release;
  });
  return { ready, commit: async () => (commit(), done) };
}

describe('global log reader on PostgreSQL, with transactions committing out of order', async () => {
  const skip = !(await postgresAvailable());
  let fixture: StoreFixture;
  beforeAll(async () => {
    if (!skip) fixture = await openStore('PostgreSQL');
  });
  afterAll(async () => fixture?.close());

  it.skipIf(skip)('never skips an event committed after a later one, and returns each once', async () => {
    const streamId = `ordering-${uuidv7()}`;
    const seen: number[] = [];
    let checkpoint: LogPosition = LOG_START;
    const poll = async () => {
      for (;;) {
        const page = await fixture.store.readAll(checkpoint, { limit: 2 });
        if (page.length === 0) return;
        for (const event of page) if (event.streamId.startsWith(streamId)) seen.push((event.data as { n: number }).n);
        const last = page[page.length - 1]!;
        checkpoint = { txId: last.txId, position: last.position };
      }
    };

    // Eight transactions append in order 0..7 (so their positions ascend), then commit in reverse
    // and interleaved order while the reader polls after every commit.
    const transactions = [];
    for (let n = 0; n < 8; n++) {
      const transaction = openTransaction(fixture, `${streamId}-${n}`, n);
      await transaction.ready;
      transactions.push(transaction);
    }
    const commitOrder = [7, 5, 6, 0, 3, 1, 4, 2];
    let naiveCheckpoint = 0;
    const naiveSeen: number[] = [];
    for (const n of commitOrder) {
      await transactions[n]!.commit();
      await poll();
      // A reader that trusts positions alone, for contrast: it moves past the late commits.
      const { rows } = await fixture.db.query<{ position: number; data: { n: number }; stream_id: string }>(
        'select position, data, stream_id from events where position > $1 order by position',
        [naiveCheckpoint],
      );
      for (const row of rows) {
        if (row.stream_id.startsWith(streamId)) naiveSeen.push(row.data.n);
        naiveCheckpoint = row.position;
      }
    }
    // Transactions of other tests in the cluster may hold the reader back a little longer.
    await waitFor('every committed event', async () => (await poll(), seen.length >= 8));
    expect(seen).toHaveLength(8); // each exactly once...
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]); // ...and none skipped
    expect(naiveSeen.length).toBeLessThan(8); // while a reader trusting positions alone skipped some
  });
});
