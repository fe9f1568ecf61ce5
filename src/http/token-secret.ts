import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../kernel/config.ts';

/** TOKEN_SECRET, or one kept in DATA_DIR (embedded: tokens survive a restart), or a random one. */
export async function tokenSecret(config: Config): Promise<Buffer> {
  if (config.tokenSecret) return Buffer.from(config.tokenSecret);
  if (config.databaseUrl) return randomBytes(32);
  const file = join(config.dataDir, 'token-secret');
  const existing = await readFile(file).catch(() => undefined);
  if (existing?.length) return existing;
  const secret = randomBytes(32);
  await writeFile(file, secret, { mode: 0o600 });
  return secret;
}
