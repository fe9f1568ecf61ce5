// Builds dist/pglite-template.tar: an embedded database already through initdb, which a fresh
// DATA_DIR starts from (initdb in WebAssembly is most of a first start). Run by `npm run build:server`.
import { PGlite } from '@electric-sql/pglite';
import { Buffer } from 'node:buffer';
import { rmSync, writeFileSync } from 'node:fs';

const TEMPLATE = 'dist/pglite-template.tar';
rmSync(TEMPLATE, { force: true });
const pg = await PGlite.create();
await pg.exec('checkpoint');
const tarball = await pg.dumpDataDir('none');
writeFileSync(TEMPLATE, Buffer.from(await tarball.arrayBuffer()));
await pg.close();
