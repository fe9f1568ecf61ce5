import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { processAlive } from '../process-alive.ts';
import { whenOpened, type Database, type OpeningDatabase } from './database.ts';
import { discardWarmPglite, startPglite } from './pglite.ts';

/** Two processes must never open one PGlite folder (it is a single-process database). */
export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError';
}

async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const lockFile = join(dataDir, 'store.pid');
  for (;;) {
    try {
      await writeFile(lockFile, String(process.pid), { flag: 'wx' });
      return () => rm(lockFile, { force: true });
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
      const holder = Number(await readFile(lockFile, 'utf8').catch(() => '0'));
      if (holder && holder !== process.pid && processAlive(holder)) {
        throw new DataDirInUseError(`${dataDir} is in use by process ${holder}; stop it, or use its HTTP API`);
      }
      await rm(lockFile, { force: true }); // left by a process that died
    }
  }
}

/** PostgreSQL when `DATABASE_URL` is set, else PGlite in `DATA_DIR/store`. */
export async function openDatabase(config: Config): Promise<Database> {
  return whenOpened(await startDatabase(config));
}

/**
 * `openDatabase` without waiting for PGlite to start (its statements wait for it): a start goes on
 * meanwhile. The folder is locked first, so a second process is refused at once.
 */
export async function startDatabase(config: Config): Promise<OpeningDatabase> {
  if (config.databaseUrl) {
    // Loaded only here: the embedded default never needs the PostgreSQL driver.
    const { openPostgres } = await import('./postgres.ts');
    discardWarmPglite();
    const db = await openPostgres({ url: config.databaseUrl, poolSize: config.databasePoolSize });
    return { db, opened: Promise.resolve() };
  }
  await mkdir(config.dataDir, { recursive: true });
  const unlock = await lockDataDir(config.dataDir);
  const { db, opened } = startPglite(join(config.dataDir, 'store'));
  return {
    db: {
      ...db,
      async close() {
        await db.close();
        await unlock();
      },
    },
    opened,
  };
}
