/**
 * Event store throughput on PostgreSQL and PGlite (in memory), each figure beside raw SQL on the
 * same database in the same run: `npm run bench:store`.
 *
 * PostgreSQL: TEST_DATABASE_URL (postgres://postgres@127.0.0.1:5432/test); a fresh schema, dropped after.
 * The batched baseline is a multi-row INSERT (100 rows per statement): pg-copy-streams is not a
 * dependency, so the pg client cannot COPY. Progress goes to stderr (BENCH_QUIET=1 hides it).
 */
import { v7 as uuidv7 } from 'uuid';
import { systemClock } from '../src/kernel/clock.ts';
import type { Database } from '../src/kernel/db/database.ts';
import { migrate } from '../src/kernel/db/migrate.ts';
import { openPglite } from '../src/kernel/db/pglite.ts';
import { LOG_START, type LogPosition } from '../src/kernel/store/envelope.ts';
import { EventStore } from '../src/kernel/store/event-store.ts';
import { eventStoreMigrations } from '../src/kernel/store/migrations.ts';
import { openTestPostgres, TEST_DATABASE_URL } from '../test/support/postgres.ts';
import { thing, testCatalog } from '../test/support/test-catalog.ts';
import { fmtInt, fmtRatio, inParallel, machine, printTable, progress, rate, timed, verdict } from './support.ts';

interface Backend {
  name: 'PostgreSQL' | 'PGlite';
  open(): Promise<Database>;
  /** Events appended in batches of 100 (with `append`, and with `appendMany`). */
  batched: number;
  /** Concurrent batch writers and stream readers (PGlite is one connection). */
  concurrency: number;
  /** Single-event appends by 16 writers. */
  singles: number;
  /** Streams of 100 events read back. */
  streamsRead: number;
  /** The absolute goals are for PostgreSQL; PGlite is compared by ratio only. */
  absoluteGoals: boolean;
}

const BACKENDS: Backend[] = [
  {
    name: 'PostgreSQL',
    open: () => openTestPostgres({ poolSize: 16 }),
    batched: 100_000,
    concurrency: 4,
    singles: 16_000,
    streamsRead: 500,
    absoluteGoals: true,
  },
  {
    name: 'PGlite',
    open: () => openPglite(),
    batched: 20_000,
    concurrency: 1,
    singles: 4_000,
    streamsRead: 100,
    absoluteGoals: false,
  },
];

const ROUNDS = 2;
/** A write round stops taking new work after this long (a slow path must not stall the run). */
const ROUND_CAP_MS = 8_000;
const WARMUP_CAP_MS = 3_000;
const BATCH = 100;
const WRITERS = 16;
const STREAMS_PER_WRITER = 8;
const PAGE = 1_000;
const COLUMNS =
  'position, tx_id, event_id, stream_id, version, type, schema_version, data, metadata, partition_key, occurred_at';
const INSERT_COLUMNS =
  'tx_id, event_id, stream_id, version, type, schema_version, data, metadata, partition_key, occurred_at';

/** A plain table of the events' shape: same columns, primary key only, no function, no lock. */
const RAW_TABLE = /* sql */ `
  create table raw_events (
    position bigint generated always as identity primary key,
    tx_id xid8 not null, event_id uuid not null, stream_id text not null, version integer not null,
    type text not null, schema_version integer not null, data jsonb not null, metadata jsonb not null,
    partition_key text not null, occurred_at timestamptz not null
  )`;

/** The parameters of one raw row, encoded as the store encodes an event (uuid v7, JSON). */
const rawRow = (streamId: string, version: number, n: number): unknown[] => {
  const id = uuidv7();
  const customerId = `c${n % 1000}`;
  const metadata = { correlationId: id, causationId: null, actor: 'system' };
  return [
    id,
    streamId,
    version,
    'ThingHappened',
    2,
    JSON.stringify({ customerId, n, note: 'x' }),
    JSON.stringify(metadata),
    customerId,
    new Date().toISOString(),
  ];
};

const insertSql = (rows: number): string =>
  `insert into raw_events (${INSERT_COLUMNS}) values ` +
  Array.from(
    { length: rows },
    (_, r) => `(pg_current_xact_id(), ${Array.from({ length: 9 }, (_, c) => `$${r * 9 + c + 1}`).join(', ')})`,
  ).join(', ');
const INSERT_BATCH = insertSql(BATCH);
const INSERT_ONE = insertSql(1);

/** One measured round: `round` -1 is the warm-up; resolves to the number of events handled. */
type Run = (round: number) => Promise<number>;

interface Result {
  /** Best events/s of each run. */
  rates: number[];
  /** Events the first run (Tributary) handled in its best round. */
  events: number;
}

/** Warms each run up, then alternates them for ROUNDS rounds (the machine's load varies) and keeps each one's best. */
async function compare(label: string, ...runs: Run[]): Promise<Result> {
  const result: Result = { rates: runs.map(() => 0), events: 0 };
  for (let round = -1; round < ROUNDS; round++) {
    for (const [index, run] of runs.entries()) {
      let events = 0;
      const ms = await timed(async () => (events = await run(round)));
      const perSecond = rate(events, ms);
      progress(
        `${label} ${index === 0 ? 'Tributary' : 'baseline'} ${round < 0 ? 'warm-up' : `round ${round + 1}`}: ${fmtInt(events)} events, ${fmtInt(perSecond)}/s`,
      );
      if (round < 0 || perSecond <= result.rates[index]!) continue;
      result.rates[index] = perSecond;
      if (index === 0) result.events = events;
    }
  }
  return result;
}

/** A write run: `events / ROUNDS` events a round (a tenth to warm up), streams tagged by round, within the time cap. */
const writes =
  (events: number, tag: string, work: (count: number, tag: string, deadline: number) => Promise<number>): Run =>
  (round) =>
    work(
      Math.round(events / ROUNDS / (round < 0 ? 10 : 1)),
      `${tag}${round < 0 ? 'w' : round + 1}`,
      performance.now() + (round < 0 ? WARMUP_CAP_MS : ROUND_CAP_MS),
    );

interface Row {
  backend: string;
  what: string;
  requested: number;
  result: Result;
  baselineName: string;
  goalRate?: number;
  goalRatio: number;
}

async function benchBackend(backend: Backend): Promise<Row[]> {
  const db = await backend.open();
  try {
    await migrate(db, eventStoreMigrations);
    await db.exec(RAW_TABLE);
    const store = new EventStore(db, testCatalog, systemClock);
    const rows: Row[] = [];
    const add = (
      what: string,
      requested: number,
      result: Result,
      baselineName: string,
      goalRatio: number,
      goalRate?: number,
    ) =>
      rows.push({
        backend: backend.name,
        what,
        requested,
        result,
        baselineName,
        goalRatio,
        goalRate: backend.absoluteGoals ? goalRate : undefined,
      });
    const batches = (count: number) => Math.ceil(count / BATCH);
    const events = (from: number) => Array.from({ length: BATCH }, (_, i) => thing(`c${(from + i) % 1000}`, from + i));
    /** Runs `batch(b)` for the batches of `count` events on the backend's writers; events written. */
    const inBatches = async (count: number, deadline: number, batch: (b: number) => Promise<unknown>) =>
      BATCH * (await inParallel(backend.concurrency, batches(count), batch, deadline));

    // 1. Batched appends, 100 events a batch, vs a 100-row INSERT into the plain table.
    const rawBatched = writes(backend.batched, 'r', (count, tag, deadline) =>
      inBatches(count, deadline, (b) =>
        db.query(
          INSERT_BATCH,
          Array.from({ length: BATCH }, (_, i) => rawRow(`r${tag}-${b}-${i}`, 1, b * BATCH + i)).flat(),
        ),
      ),
    );
    const appended: string[] = []; // streams of 100 events, read back in step 3
    const appendOne = writes(backend.batched, 'a', (count, tag, deadline) =>
      inBatches(count, deadline, async (b) => {
        await store.append(`s${tag}-${b}`, events(b * BATCH));
        appended.push(`s${tag}-${b}`);
      }),
    );
    const appendMany = writes(backend.batched, 'm', (count, tag, deadline) =>
      inBatches(count, deadline, (b) =>
        store.appendMany(
          events(b * BATCH).map((event, i) => ({
            streamId: `m${tag}-${b}-${i}`,
            events: [event],
            expectedVersion: 'no_stream' as const,
          })),
        ),
      ),
    );
    add(
      'append: 100 events to one new stream per call',
      backend.batched,
      await compare('append', appendOne, rawBatched),
      'INSERT of 100 rows',
      0.5,
      80_000,
    );
    add(
      'appendMany: 100 new streams × 1 event, one transaction',
      backend.batched,
      await compare('appendMany', appendMany, rawBatched),
      'INSERT of 100 rows',
      0.5,
      80_000,
    );

    // 2. Single-event appends with the expected version, 16 writers on their own streams, vs single-row INSERTs.
    const writers = async (
      count: number,
      deadline: number,
      write: (writer: number, index: number) => Promise<unknown>,
    ) => {
      let done = 0;
      await inParallel(WRITERS, WRITERS, async (w) => {
        for (let i = 0; i < count / WRITERS && performance.now() < deadline; i++, done++) await write(w, i);
      });
      return done;
    };
    const rawSingles = writes(backend.singles, 'rs', (count, tag, deadline) =>
      writers(count, deadline, (w, i) => db.query(INSERT_ONE, rawRow(`r${tag}-${w}-${i % STREAMS_PER_WRITER}`, i, i))),
    );
    const appendSingles = writes(backend.singles, 'w', (count, tag, deadline) => {
      const versions = Array.from({ length: WRITERS }, () => new Array<number>(STREAMS_PER_WRITER).fill(0));
      return writers(count, deadline, async (w, i) => {
        const s = i % STREAMS_PER_WRITER;
        await store.append(`w${tag}-${w}-${s}`, [thing(`c${w}`, i)], { expectedVersion: versions[w]![s]! });
        versions[w]![s]!++;
      });
    });
    add(
      `append: 1 event, expected version, ${WRITERS} writers`,
      backend.singles,
      await compare('single appends', appendSingles, rawSingles),
      `1-row INSERT, ${WRITERS} clients`,
      0.7,
      12_000,
    );

    // 3. Reads: streams of step 1 (100 events each), and the global log from the start, vs raw SELECTs.
    const streams = appended.filter((streamId) => !streamId.startsWith('saw-')).slice(0, backend.streamsRead);
    const readStreams =
      (read: (streamId: string) => Promise<unknown[]>): Run =>
      async () => {
        let total = 0;
        await inParallel(backend.concurrency, streams.length, async (index) => {
          const found = await read(streams[index]!);
          total += found.length;
        });
        return total;
      };
    const rawStream = readStreams(
      async (streamId) =>
        (await db.query(`select ${COLUMNS} from events where stream_id = $1 order by version`, [streamId])).rows,
    );
    const storeStream = readStreams((streamId) => store.readStream(streamId));
    add(
      `readStream: ${streams.length} streams of ${BATCH} events`,
      streams.length * BATCH,
      await compare('readStream', storeStream, rawStream),
      'SELECT … where stream_id order by version',
      0.8,
    );

    const logEvents = Math.min(
      backend.batched,
      await db.query<{ n: number }>('select count(*)::int8 as n from events').then(({ rows }) => rows[0]!.n),
    );
    const readLog =
      (page: (after: LogPosition) => Promise<{ txId: string; position: number }[]>): Run =>
      async () => {
        let after = LOG_START;
        let read = 0;
        while (read < logEvents) {
          const found = await page(after);
          if (found.length === 0) throw new Error('the log ended early');
          read += found.length;
          after = found[found.length - 1]!;
        }
        return read;
      };
    const rawLog = readLog(async (after) => {
      const { rows: found } = await db.query<{ tx_id: string; position: number }>(
        `select ${COLUMNS} from events where (tx_id, position) > ($1::xid8, $2::bigint) order by tx_id, position limit ${PAGE}`,
        [after.txId, after.position],
      );
      return found.map((row) => ({ txId: row.tx_id, position: row.position }));
    });
    const storeLog = readLog((after) => store.readAll(after, { limit: PAGE }));
    add(
      `readAll: global log from the start, pages of ${PAGE}`,
      logEvents,
      await compare('readAll', storeLog, rawLog),
      'SELECT … order by tx_id, position (keyset)',
      0.8,
    );
    return rows;
  } finally {
    await db.close();
  }
}

const rows: Row[] = [];
for (const backend of BACKENDS) {
  const started = performance.now();
  rows.push(...(await benchBackend(backend)));
  progress(`${backend.name}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

printTable(
  'Event store throughput (events/s)',
  ['backend', 'operation', 'events', 'Tributary', 'baseline (same run)', 'baseline', 'ratio', 'goal', 'met'],
  rows.map(({ backend, what, requested, result, baselineName, goalRate, goalRatio }) => {
    const [ours, baseline] = result.rates as [number, number];
    const ratio = ours / baseline;
    const met = ratio >= goalRatio && (goalRate === undefined || ours >= goalRate);
    const goal = [goalRate ? `≥ ${fmtInt(goalRate)}/s` : '', `≥ ${goalRatio}×`].filter(Boolean).join(', ');
    const perRound = requested / (what.startsWith('read') ? 1 : ROUNDS);
    const events =
      result.events < perRound ? `${fmtInt(result.events)} of ${fmtInt(perRound)} (time cap)` : fmtInt(result.events);
    return [backend, what, events, fmtInt(ours), baselineName, fmtInt(baseline), fmtRatio(ratio), goal, verdict(met)];
  }),
  [
    `${machine()}; PostgreSQL at ${TEST_DATABASE_URL.replace(/\/\/[^@]*@/, '//')} (a fresh schema, server defaults), PGlite in memory.`,
    'Baselines: raw SQL on the same database and pool, into a plain table of the same columns (primary key only), or from the `events` table.',
    `Each figure is the best of ${ROUNDS} rounds alternating with its baseline, after an untimed warm-up; events = the events of the best round. A write round stops after ${ROUND_CAP_MS / 1000} s.`,
    'The batched baseline is a multi-row INSERT of 100 rows per statement, not COPY (pg-copy-streams is not installed).',
    `PostgreSQL: ${BACKENDS[0]!.concurrency} concurrent batch writers and stream readers; PGlite is one connection. The absolute goals apply to PostgreSQL only.`,
  ],
);
