import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import type { Database } from './database.ts';
import { openPglite } from './pglite.ts';
import { openPostgres } from './postgres.ts';

/** PostgreSQL when `DATABASE_URL` is set, else PGlite in `DATA_DIR/store`. */
export async function openDatabase(config: Config): Promise<Database> {
  if (config.databaseUrl) return openPostgres({ url: config.databaseUrl, poolSize: config.databasePoolSize });
  await mkdir(config.dataDir, { recursive: true });
  return openPglite(join(config.dataDir, 'store'));
}
