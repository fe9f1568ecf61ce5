import type { Sql } from './db/database.ts';
import type { Migration } from './db/migrate.ts';
import type { DeferredWrites } from './store/deferred-writes.ts';

/**
 * Idempotency keys, one table for every write. A key is claimed per scope (route and caller) with
 * a keyed hash of its request, and holds either the answer the first request gave (replayed to a
 * retry) or the resource it started (a workflow a retry joins, even after a crash).
 */
export const idempotencyMigrations: Migration[] = [
  {
    id: '0021_http_idempotency',
    sql: /* sql */ `
      -- The answers of writes sent with an Idempotency-Key, per route and caller. The request is
      -- kept as a keyed hash only; status is null while the first request with the key runs.
      create table http_idempotency (
        scope text not null,
        key text not null,
        request_hash text not null,
        status integer,
        content_type text,
        location text,
        body text,
        created_at timestamptz not null default now(),
        primary key (scope, key)
      );
    `,
  },
  {
    id: '0041_idempotency_resources',
    sql: /* sql */ `
      -- A key may start a resource (a registration) instead of keeping an answer: one table for both.
      alter table http_idempotency add column resource text;
      insert into http_idempotency (scope, key, request_hash, resource, created_at)
        select 'registration', key, request_hash, registration_id, created_at from idempotency_keys
        on conflict do nothing;
      drop table idempotency_keys;
    `,
  },
];

/** The same Idempotency-Key was sent with another request (422). */
export class IdempotencyKeyMismatchError extends Error {
  override readonly name = 'IdempotencyKeyMismatchError';
}

/** A request with this key is still running (409): retry once it answered. */
export class IdempotencyKeyInFlightError extends Error {
  override readonly name = 'IdempotencyKeyInFlightError';
}

export interface KeyClaim {
  scope: string;
  key: string;
  /** The keyed hash of the request. */
  requestHash: string;
}

/** The unique key a claim made by `claimNewResource` breaks when the key was claimed before. */
export const CLAIM_TAKEN_CONSTRAINT = 'http_idempotency_pkey';

/**
 * Claims `key` for a new resource in `writes`, the statement that creates it: that statement
 * fails (unique violation on CLAIM_TAKEN_CONSTRAINT) when the key was claimed before, and
 * `claimResource` then says by whom.
 */
export function claimNewResource(writes: DeferredWrites, claim: KeyClaim, resource: string): void {
  writes.write('insert into http_idempotency (scope, key, request_hash, resource) values ($1, $2, $3, $4)', [
    claim.scope,
    claim.key,
    claim.requestHash,
    resource,
  ]);
}

/**
 * Claims `key` for a resource: the first request binds `resource` to it; a retry with the same
 * request gets the resource the first one bound (to join it), another request a mismatch error.
 */
export async function claimResource(sql: Sql, claim: KeyClaim, resource: string): Promise<string> {
  const read = async () =>
    (
      await sql.query<{ request_hash: string; resource: string }>(
        'select request_hash, resource from http_idempotency where scope = $1 and key = $2',
        [claim.scope, claim.key],
      )
    ).rows[0];
  const { rows } = await sql.query<{ request_hash: string; resource: string }>(
    `insert into http_idempotency (scope, key, request_hash, resource) values ($1, $2, $3, $4)
     on conflict (scope, key) do nothing returning request_hash, resource`,
    [claim.scope, claim.key, claim.requestHash, resource],
  );
  // Taken already: the first request committed it (read again, after this statement's snapshot).
  const held = rows[0] ?? (await read());
  if (!held || held.request_hash !== claim.requestHash || !held.resource)
    throw new IdempotencyKeyMismatchError('this Idempotency-Key was used with a different request');
  return held.resource;
}

/** Whether `key` started `resource` in `scope` (its holder may follow it). */
export async function isKeyOfResource(sql: Sql, scope: string, key: string, resource: string): Promise<boolean> {
  const { rows } = await sql.query('select 1 from http_idempotency where scope = $1 and key = $2 and resource = $3', [
    scope,
    key,
    resource,
  ]);
  return rows.length > 0;
}

export interface StoredAnswer {
  status: number;
  contentType: string | null;
  location: string | null;
  body: string | null;
}

/** A first request that never answered (its process died) no longer holds its key after this. */
const STALE_SECONDS = 60;
/** A kept answer is replayed for a day (as Stripe does); then the key is free again and the row pruned. */
const ANSWER_TTL = `interval '24 hours'`;

/**
 * Claims `key` for an answer. Null: this request holds the key now and runs (then `keepAnswer` or
 * `releaseAnswer`); otherwise the first request's answer, to replay. Throws on another request
 * (mismatch) or while the first still runs (in flight).
 */
export async function claimAnswer(sql: Sql, claim: KeyClaim): Promise<StoredAnswer | null> {
  const { rows } = await sql.query<{
    claimed: boolean;
    request_hash: string;
    status: number | null;
    content_type: string | null;
    location: string | null;
    body: string | null;
  }>(
    `with claim as (
       insert into http_idempotency (scope, key, request_hash) values ($1, $2, $3)
       on conflict (scope, key) do update
         set created_at = now(), request_hash = excluded.request_hash, status = null, content_type = null, location = null, body = null
         where http_idempotency.resource is null and (
           http_idempotency.created_at < now() - ${ANSWER_TTL}
           or (http_idempotency.status is null and http_idempotency.request_hash = excluded.request_hash
               and http_idempotency.created_at < now() - make_interval(secs => ${STALE_SECONDS})))
       returning true as claimed, request_hash, status, content_type, location, body
     )
     select * from claim
     union all
     select false, request_hash, status, content_type, location, body from http_idempotency
      where scope = $1 and key = $2 and not exists (select 1 from claim)`,
    [claim.scope, claim.key, claim.requestHash],
  );
  const row = rows[0]!;
  if (row.claimed) return null;
  if (row.request_hash !== claim.requestHash)
    throw new IdempotencyKeyMismatchError('this Idempotency-Key was used with a different request');
  if (row.status === null)
    throw new IdempotencyKeyInFlightError(
      'a request with this Idempotency-Key is still running; retry when it has answered',
    );
  return { status: row.status, contentType: row.content_type, location: row.location, body: row.body };
}

/** Keeps the answer of the request that holds the key, for its retries. */
export async function keepAnswer(sql: Sql, claim: Omit<KeyClaim, 'requestHash'>, answer: StoredAnswer): Promise<void> {
  await sql.query(
    'update http_idempotency set status = $3, content_type = $4, location = $5, body = $6 where scope = $1 and key = $2',
    [claim.scope, claim.key, answer.status, answer.contentType, answer.location, answer.body],
  );
}

/** Gives the key back (the answer was not final): a retry runs again. */
export async function releaseAnswer(sql: Sql, claim: Omit<KeyClaim, 'requestHash'>): Promise<void> {
  await sql.query('delete from http_idempotency where scope = $1 and key = $2 and status is null', [
    claim.scope,
    claim.key,
  ]);
}

/** Deletes the answers older than their day; returns how many. */
export async function pruneAnswers(sql: Sql): Promise<number> {
  const { rowCount } = await sql.query(
    `delete from http_idempotency where resource is null and created_at < now() - ${ANSWER_TTL}`,
  );
  return rowCount ?? 0;
}
