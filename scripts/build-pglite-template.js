// Builds the embedded database a fresh DATA_DIR starts from, already through initdb (initdb in
// WebAssembly is most of a first start): dist/pglite-template/, a data folder a new store is
// copied from, and dist/pglite-template.tar, the same files for a database in memory (tests).
// Run by `npm run build:server`.
import { PGlite } from '@electric-sql/pglite';
import { Buffer } from 'node:buffer';
import { rmSync, writeFileSync } from 'node:fs';

const FOLDER = 'dist/pglite-template';
const TARBALL = 'dist/pglite-template.tar';
rmSync(FOLDER, { recursive: true, force: true });
rmSync(TARBALL, { force: true });
const pg = await PGlite.create(FOLDER);
await pg.exec('checkpoint');
const tarball = await pg.dumpDataDir('none');
writeFileSync(TARBALL, Buffer.from(await tarball.arrayBuffer()));
await pg.close();
