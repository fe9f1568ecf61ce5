import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { type Pii } from '../../domain/events/common.ts';
import type { Sql } from '../../kernel/db/database.ts';

/**
 * Crypto-shredding of customer personal data: each customer's email and name are encrypted
 * (AES-256-GCM, the customer id as additional data) with a key of its own, kept in
 * `customer_keys`. Deleting that row is erasure: the events keep only ciphertext nobody can read.
 */
export type { Pii };

export interface PersonalData {
  email: string;
  name: string;
}

async function keyOf(sql: Sql, customerId: string): Promise<Buffer | undefined> {
  const { rows } = await sql.query<{ key: Buffer | Uint8Array }>('select key from customer_keys where customer_id = $1', [customerId]);
  return rows[0] ? Buffer.from(rows[0].key) : undefined;
}

/** Encrypts with the customer's key, creating it (in `tx`) on first use. */
export async function encrypt(customerId: string, data: PersonalData, tx: Sql): Promise<Pii> {
  await tx.query('insert into customer_keys (customer_id, key, created_at) values ($1, $2, now()) on conflict (customer_id) do nothing', [customerId, randomBytes(32)]);
  const key = await keyOf(tx, customerId);
  if (!key) throw new Error(`no key for customer ${customerId}`);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(customerId));
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify({ email: data.email, name: data.name }), 'utf8'), cipher.final()]);
  return { alg: 'A256GCM', iv: iv.toString('base64url'), ciphertext: ciphertext.toString('base64url'), tag: cipher.getAuthTag().toString('base64url') };
}

function open(customerId: string, pii: Pii, key: Buffer | undefined): PersonalData | null {
  if (pii.alg === 'legacy-clear') return { email: pii.email, name: pii.name };
  if (!key) return null;
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(pii.iv, 'base64url'));
  decipher.setAAD(Buffer.from(customerId));
  decipher.setAuthTag(Buffer.from(pii.tag, 'base64url'));
  const clear = Buffer.concat([decipher.update(Buffer.from(pii.ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  return JSON.parse(clear) as PersonalData;
}

/** The clear data, or null when the customer's key was deleted (erased). */
export async function decrypt(customerId: string, pii: Pii, sql: Sql): Promise<PersonalData | null> {
  return open(customerId, pii, pii.alg === 'legacy-clear' ? undefined : await keyOf(sql, customerId));
}

/**
 * `decrypt` for many customers with one key query (a projection's batch): the clear data by
 * customer id, null for those whose key was deleted.
 */
export async function decryptMany(items: readonly { customerId: string; pii: Pii }[], sql: Sql): Promise<Map<string, PersonalData | null>> {
  const sealed = [...new Set(items.filter((item) => item.pii.alg !== 'legacy-clear').map((item) => item.customerId))];
  const keys = new Map<string, Buffer>();
  if (sealed.length > 0) {
    const { rows } = await sql.query<{ customer_id: string; key: Buffer | Uint8Array }>('select customer_id, key from customer_keys where customer_id = any($1::text[])', [sealed]);
    for (const row of rows) keys.set(row.customer_id, Buffer.from(row.key));
  }
  return new Map(items.map((item) => [item.customerId, open(item.customerId, item.pii, keys.get(item.customerId))]));
}

/** Erasure: deletes the key; returns whether there was one. */
export async function shred(customerId: string, tx: Sql): Promise<boolean> {
  const { rowCount } = await tx.query('delete from customer_keys where customer_id = $1', [customerId]);
  return rowCount > 0;
}

/**
 * The email as `customer_emails` keeps it: an HMAC-SHA256 keyed with a platform secret kept in
 * the database (`platform_secrets`, created once), so every process agrees and the table holds
 * no readable address.
 */
export async function emailDigest(sql: Sql, email: string): Promise<string> {
  await sql.query(`insert into platform_secrets (name, value) values ('email-hmac', $1) on conflict (name) do nothing`, [randomBytes(32)]);
  const { rows } = await sql.query<{ value: Buffer | Uint8Array }>(`select value from platform_secrets where name = 'email-hmac'`);
  return createHmac('sha256', Buffer.from(rows[0]!.value)).update(email.trim().toLowerCase()).digest('hex');
}
