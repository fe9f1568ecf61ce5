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

/** Secrets read through a database object: a secret never changes once created, so it is read once. */
const secrets = new WeakMap<Sql, Map<string, Buffer>>();

/** `keyedHash` for many values: reads the secret once. */
export async function keyedHasher(sql: Sql, secretName: string): Promise<(value: string) => string> {
  const known = secrets.get(sql) ?? new Map<string, Buffer>();
  let secret = known.get(secretName);
  if (!secret) {
    await sql.query('insert into platform_secrets (name, value) values ($1, $2) on conflict (name) do nothing', [
      secretName,
      randomBytes(32),
    ]);
    const { rows } = await sql.query<{ value: Buffer | Uint8Array }>(
      'select value from platform_secrets where name = $1',
      [secretName],
    );
    secret = Buffer.from(rows[0]!.value);
    secrets.set(sql, known.set(secretName, secret));
  }
  const key = secret;
  return (value) => createHmac('sha256', key).update(value).digest('hex');
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
