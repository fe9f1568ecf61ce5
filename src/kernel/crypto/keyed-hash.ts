import { createHmac, randomBytes } from 'node:crypto';
import type { Sql } from '../db/database.ts';

/**
 * A keyed hash (HMAC-SHA256) for exact-match lookups of personal data (an email index, an
 * idempotency key's request): keyed with a platform secret kept in the database
 * (`platform_secrets`, created once per purpose), so every process agrees and no table holds a
 * value that hashing a list of known addresses could match.
 */
export async function keyedHash(sql: Sql, secretName: string, value: string): Promise<string> {
  return (await keyedHasher(sql, secretName))(value);
}

/**
 * Secrets by database (`Sql.scope`, shared by its transactions): a secret never changes once
 * committed, so a process reads it once, not once per transaction.
 */
const secrets = new WeakMap<object, Map<string, Buffer>>();

/** `keyedHash` for many values: reads the secret once. */
export async function keyedHasher(sql: Sql, secretName: string): Promise<(value: string) => string> {
  const known = (scope: object) => secrets.get(scope)?.get(secretName);
  const key = known(sql.scope ?? sql) ?? known(sql) ?? (await readSecret(sql, secretName));
  return (value) => createHmac('sha256', key).update(value).digest('hex');
}

/** Reads the secret, creating it on first use; cached by database only once known committed. */
async function readSecret(sql: Sql, secretName: string): Promise<Buffer> {
  const { rowCount } = await sql.query(
    'insert into platform_secrets (name, value) values ($1, $2) on conflict (name) do nothing',
    [secretName, randomBytes(32)],
  );
  const { rows } = await sql.query<{ value: Buffer | Uint8Array }>(
    'select value from platform_secrets where name = $1',
    [secretName],
  );
  const secret = Buffer.from(rows[0]!.value);
  // Created just now, in what may be a transaction that rolls back: kept by this object only.
  const scope = rowCount === 0 ? (sql.scope ?? sql) : sql;
  const known = secrets.get(scope) ?? new Map<string, Buffer>();
  secrets.set(scope, known.set(secretName, secret));
  return secret;
}

/** The normalised form of an address: what every email lookup compares. */
export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

/** The keyed hash of an email (normalised): the only form in which an address is looked up. */
export const emailDigest = (sql: Sql, email: string): Promise<string> =>
  keyedHash(sql, EMAIL_SECRET, normalizeEmail(email));

/** `emailDigest` for many addresses: reads the secret once. */
export async function emailDigester(sql: Sql): Promise<(email: string) => string> {
  const hash = await keyedHasher(sql, EMAIL_SECRET);
  return (email) => hash(normalizeEmail(email));
}

const EMAIL_SECRET = 'email-hmac';
