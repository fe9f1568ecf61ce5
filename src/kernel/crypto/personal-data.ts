import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { Sql } from '../db/database.ts';
import { pooledRandomBytes } from './random-pool.ts';
import type { DeferredWrites } from '../store/deferred-writes.ts';

/**
 * Crypto-shredding of personal data: each customer has an AES-256 key of its own (`customer_keys`);
 * everything personal the platform writes (events, views, the notification log, the mailbox) is
 * sealed with it (AES-256-GCM, the customer id as additional data) and opened at the edge.
 * Deleting the key is erasure: what was sealed with it stays unreadable wherever it went.
 */

/** A sealed value, as JSON (the shape `encryptedPii` declares for events). */
export interface Sealed {
  alg: 'A256GCM';
  iv: string;
  ciphertext: string;
  tag: string;
}

/** What customer events carry: sealed, or clear in events older than encryption (not shreddable). */
export type Pii = Sealed | { alg: 'legacy-clear'; email: string; name: string };

export interface PersonalData {
  email: string;
  name: string;
}

/** A customer's key; undefined once shredded (or never created). */
export async function keyOf(sql: Sql, customerId: string): Promise<Buffer | undefined> {
  return (await keysOf(sql, [customerId])).get(customerId);
}

/** The keys of many customers in one query; a shredded one is missing from the map. */
export async function keysOf(sql: Sql, customerIds: readonly string[]): Promise<Map<string, Buffer>> {
  const ids = [...new Set(customerIds)];
  if (ids.length === 0) return new Map();
  const { rows } = await sql.query<{ customer_id: string; key: Buffer | Uint8Array }>(
    'select customer_id, key from customer_keys where customer_id = any($1::text[])',
    [ids],
  );
  return new Map(rows.map((row) => [row.customer_id, Buffer.from(row.key)]));
}

/** The customer's key, created (in `tx`) on first use. */
export async function ensureKey(tx: Sql, customerId: string): Promise<Buffer> {
  const { rows } = await tx.query<{ key: Buffer | Uint8Array }>(
    'insert into customer_keys (customer_id, key, created_at) values ($1, $2, now()) on conflict (customer_id) do nothing returning key',
    [customerId, newKey()],
  );
  // Created here: one round trip; it existed already: read it.
  const key = rows[0] ? Buffer.from(rows[0].key) : await keyOf(tx, customerId);
  if (!key) throw new Error(`no key for customer ${customerId}`);
  return key;
}

/** A customer's new AES-256 key: a copy of its own, so no other value shares its memory. */
const newKey = (): Buffer => Buffer.from(pooledRandomBytes(32));

/** A new 96-bit GCM IV. */
const nextIv = (): Buffer => pooledRandomBytes(12);

/** Seals bytes with a customer's key. */
export function sealWith(key: Buffer, customerId: string, clear: Buffer): Sealed {
  const iv = nextIv();
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(customerId));
  const ciphertext = Buffer.concat([cipher.update(clear), cipher.final()]);
  const b64 = (bytes: Buffer) => bytes.toString('base64url');
  return { alg: 'A256GCM', iv: b64(iv), ciphertext: b64(ciphertext), tag: b64(cipher.getAuthTag()) };
}

/** Opens what `sealWith` sealed; throws when the key or the customer id is not the one it was sealed with. */
export function openWith(key: Buffer, customerId: string, sealed: Sealed): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64url'));
  decipher.setAAD(Buffer.from(customerId));
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64url')), decipher.final()]);
}

/** Seals a text under the customer's existing key; null when the key is gone (nothing may be written then). */
export async function sealText(sql: Sql, customerId: string, text: string): Promise<Sealed | null> {
  const key = await keyOf(sql, customerId);
  return key ? sealWith(key, customerId, Buffer.from(text, 'utf8')) : null;
}

/** Opens sealed texts of many customers with one key query; null for those whose key is gone. */
export async function openTexts<T extends { customerId: string; sealed: Sealed | null }>(
  sql: Sql,
  items: readonly T[],
): Promise<(string | null)[]> {
  const keys = await keysOf(
    sql,
    items.filter((item) => item.sealed).map((item) => item.customerId),
  );
  return items.map(({ customerId, sealed }) => {
    const key = keys.get(customerId);
    return key && sealed ? openWith(key, customerId, sealed).toString('utf8') : null;
  });
}

const sealPersonal = (key: Buffer, customerId: string, data: PersonalData): Sealed =>
  sealWith(key, customerId, Buffer.from(JSON.stringify({ email: data.email, name: data.name }), 'utf8'));

/** Encrypts a customer's email and name with its key, creating the key (in `tx`) on first use. */
export async function encrypt(customerId: string, data: PersonalData, tx: Sql): Promise<Sealed> {
  return sealPersonal(await ensureKey(tx, customerId), customerId, data);
}

/**
 * `encrypt` for a customer that has no key yet (its id was just drawn): the key is created by
 * `writes`, in the statement that first stores what it seals (both commit, or neither).
 */
export function encryptNew(customerId: string, data: PersonalData, writes: DeferredWrites): Sealed {
  const key = newKey();
  writes.write('insert into customer_keys (customer_id, key, created_at) values ($1, $2, now())', [customerId, key]);
  return sealPersonal(key, customerId, data);
}

function open(customerId: string, pii: Pii, key: Buffer | undefined): PersonalData | null {
  if (pii.alg === 'legacy-clear') return { email: pii.email, name: pii.name };
  if (!key) return null;
  return JSON.parse(openWith(key, customerId, pii).toString('utf8')) as PersonalData;
}

/** The clear data, or null when the customer's key was deleted (erased). */
export async function decrypt(customerId: string, pii: Pii, sql: Sql): Promise<PersonalData | null> {
  return open(customerId, pii, pii.alg === 'legacy-clear' ? undefined : await keyOf(sql, customerId));
}

/**
 * `decrypt` for many customers with one key query (a projection's batch, a page of a view): the
 * clear data by customer id, null for those whose key was deleted.
 */
export async function decryptMany(
  items: readonly { customerId: string; pii: Pii }[],
  sql: Sql,
): Promise<Map<string, PersonalData | null>> {
  const keys = await keysOf(
    sql,
    items.filter((item) => item.pii.alg !== 'legacy-clear').map((item) => item.customerId),
  );
  return openMany(items, keys);
}

/** `decryptMany` with keys already read (`keysOf`): the caller also seals with them. */
export function openMany(
  items: readonly { customerId: string; pii: Pii }[],
  keys: ReadonlyMap<string, Buffer>,
): Map<string, PersonalData | null> {
  return new Map(items.map((item) => [item.customerId, open(item.customerId, item.pii, keys.get(item.customerId))]));
}

/** Erasure: deletes the key; returns whether there was one. */
export async function shred(customerId: string, tx: Sql): Promise<boolean> {
  const { rowCount } = await tx.query('delete from customer_keys where customer_id = $1', [customerId]);
  return rowCount > 0;
}
