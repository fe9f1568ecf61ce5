import { PGlite } from '@electric-sql/pglite';
import { cpSync, existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processAlive } from '../process-alive.ts';

/**
 * A database already through initdb, built by `npm run build` (running initdb in WebAssembly is
 * most of a first start): a folder a new store is copied from, and the same files as a tarball
 * for a database in memory. Without them (tests on the sources before any build) a new database
 * is initialised the slow way.
 */
const TEMPLATE_FOLDER = fileURLToPath(new URL('../../../dist/pglite-template', import.meta.url));
const TEMPLATE_TARBALL = new URL('../../../dist/pglite-template.tar', import.meta.url);

/** Where a process copies the template before renaming it into place: beside the store, named after the process. */
const copyPath = (dataDir: string, pid: number) => `${dataDir}.${pid}.new`;

/**
 * A new folder is a copy of the template folder (half the time of PGlite unpacking the tarball,
 * and a synchronous copy half that of an asynchronous one: nothing else runs on this thread yet),
 * made beside it and renamed: a crash never leaves half a database where the store is looked for.
 */
function copyTemplate(dataDir: string): void {
  if (existsSync(dataDir) || !existsSync(join(TEMPLATE_FOLDER, 'PG_VERSION'))) return;
  const copy = copyPath(dataDir, process.pid);
  try {
    cpSync(TEMPLATE_FOLDER, copy, { recursive: true });
    renameSync(copy, dataDir);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

/** Copies that a crash left beside the store (`<store>.<pid>.new`, their process gone): never read, 40 MB each. */
function removeAbandonedCopies(dataDir: string): void {
  const parent = dirname(dataDir);
  if (!existsSync(parent)) return;
  for (const name of readdirSync(parent)) {
    const pid = Number(name.match(/\.(\d+)\.new$/)?.[1]);
    const path = join(parent, name);
    if (path === copyPath(dataDir, pid) && !processAlive(pid)) rmSync(path, { recursive: true, force: true });
  }
}

/** The tarball a database with no files yet starts from: in memory, or a folder that exists but holds no database. */
async function tarballFor(dataDir: string | undefined): Promise<Blob | undefined> {
  if ((dataDir && existsSync(join(dataDir, 'PG_VERSION'))) || !existsSync(TEMPLATE_TARBALL)) return undefined;
  return new Blob([await readFile(TEMPLATE_TARBALL)]);
}

/**
 * PostgreSQL's default 128 MB of shared buffers is zeroed by the WebAssembly runtime at every
 * start (about a third of a second here); 32 MB start in 0.6 s instead of 0.9. Pages past them
 * are read through the operating system's file cache.
 */
const START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=32MB'];

/** What PGlite loads at every start, whatever the store: its WebAssembly, compiled, and its file bundle. */
export interface PgliteAssets {
  pgliteWasmModule: WebAssembly.Module;
  fsBundle: Blob;
}

export async function loadPgliteAssets(): Promise<PgliteAssets> {
  const dist = new URL('.', import.meta.resolve('@electric-sql/pglite'));
  const [wasm, bundle] = await Promise.all([
    readFile(new URL('pglite.wasm', dist)),
    readFile(new URL('pglite.data', dist)),
  ]);
  return { pgliteWasmModule: await WebAssembly.compile(wasm), fsBundle: new Blob([bundle]) };
}

/** PGlite in `dataDir` (a folder, created from the template when missing) or in memory when `dataDir` is undefined. */
export async function createPglite(dataDir: string | undefined, assets: PgliteAssets): Promise<PGlite> {
  if (dataDir) {
    removeAbandonedCopies(dataDir);
    copyTemplate(dataDir);
  }
  return PGlite.create(dataDir, { ...assets, loadDataDir: await tarballFor(dataDir), startParams: START_PARAMS });
}
