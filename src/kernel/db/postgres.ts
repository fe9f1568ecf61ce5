import { createHash } from 'node:crypto';
import pg from 'pg';
import { coalescedPerKey } from './coalesced.ts';
import { DatabaseUnavailableError, type Database, type Sql } from './database.ts';

// Positions and counts are bigint in SQL; they stay far below 2^53, so read them as numbers
// (PGlite does the same).
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface PostgresOptions {
  url: string;
  /** Schema to create and use (search_path); tests get one each. */
  schema?: string;
  poolSize?: number;
}

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', '57P01', '57P03']);

const translate = (error: unknown): never => {
  const code = (error as { code?: string }).code;
  if (code && CONNECTION_ERRORS.has(code)) {
    throw new DatabaseUnavailableError(`PostgreSQL unavailable: ${(error as Error).message}`, { cause: error });
  }
  throw error;
};

const atOnce = (callback: () => void) => callback();

/** A prepared statement's name: the same for the same text in every process and connection. */
const preparedNames = new Map<string, string>();
const preparedName = (text: string): string => {
  let name = preparedNames.get(text);
  if (!name) preparedNames.set(text, (name = `tr_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`));
  return name;
};

/**
 * `begun`: the BEGIN of the transaction this Sql runs in, sent without waiting for its answer, so
 * that it goes out with the first statement (pipelined): a statement's result counts only with it.
 */
const sqlOf = (client: pg.Pool | pg.PoolClient, scope: object, onCommit = atOnce, begun?: Promise<unknown>): Sql => {
  const after = <T>(sent: Promise<T>): Promise<T> =>
    begun ? Promise.all([begun, sent]).then(([, result]) => result) : sent;
  return {
    scope,
    onCommit,
    async query(text, params, options) {
      const values = params as unknown[] | undefined;
      const result = await after(
        options?.prepared ? client.query({ name: preparedName(text), text, values }) : client.query(text, values),
      ).catch(translate);
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    },
    async exec(text) {
      await after(client.query(text)).catch(translate);
    },
  };
};

/** A connection of its own that LISTENs, reconnecting with backoff (a pool connection would be handed out). */
function listenOn(config: pg.ClientConfig, channel: string, onNotify: () => void): () => Promise<void> {
  let client: pg.Client | undefined;
  let stopped = false;
  let failures = 0;
  let retry: NodeJS.Timeout | undefined;
  const connect = async () => {
    if (stopped) return;
    const candidate = new pg.Client(config);
    let lost = false;
    const reconnect = () => {
      if (lost || stopped) return;
      lost = true;
      client = undefined;
      candidate.end().catch(() => {});
      retry = setTimeout(() => void connect(), Math.min(30_000, 500 * 2 ** failures++));
      retry.unref();
    };
    candidate.on('error', reconnect);
    candidate.on('end', reconnect);
    candidate.on('notification', () => onNotify());
    try {
      await candidate.connect();
      const { rows } = await candidate.query<{ schema: string }>('select current_schema() as schema');
      await candidate.query(`listen ${channel}_${rows[0]!.schema}`);
      client = candidate;
      failures = 0;
      onNotify();
    } catch {
      reconnect();
    }
  };
  void connect();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    await client?.end().catch(() => {});
  };
}

export async function openPostgres(options: PostgresOptions): Promise<Database> {
  const schema = options.schema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 20,
    connectionTimeoutMillis: 5_000,
    // A statement can be sent before the answer to the one before it (a transaction's BEGIN).
    pipeline: true,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', () => {});
  if (schema) await pool.query(`create schema if not exists ${schema}`).catch(translate);
  const base = sqlOf(pool, pool);
  // Not waiting for its WAL flush: the notification carries no data, and it holds the
  // notification lock only for as long as it takes to queue it. At most one every 10 ms: a
  // round trip per commit would cost the writers more than the wait costs the readers.
  const notify = coalescedPerKey(
    (channel) =>
      pool.query(
        `begin; set local synchronous_commit to off; select pg_notify(left('${channel.replaceAll("'", "''")}_' || current_schema(), 63), ''); commit`,
      ),
    10,
  );
  const clientConfig: pg.ClientConfig = {
    connectionString: options.url,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  };
  return {
    kind: 'postgres',
    ...base,
    async transaction(fn) {
      const client = await pool.connect().catch(translate);
      const committed = new Set<() => void>(); // the same callback once, however many appends asked
      try {
        // Not awaited: BEGIN goes out with the first statement, one round trip for both. BEGIN fails
        // only with its session (a lost connection, a server shutting down), and so does what follows it.
        const begun = client.query('begin');
        begun.catch(() => {}); // its failure is the statements' (or the commit's) to report
        const result = await fn(sqlOf(client, pool, (callback) => committed.add(callback), begun));
        await begun.catch(translate);
        await client.query('commit');
        for (const callback of committed) callback();
        return result;
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    listen: (channel, onNotify) => listenOn(clientConfig, channel, onNotify),
    notify,
    async close() {
      await pool.end();
    },
  };
}
