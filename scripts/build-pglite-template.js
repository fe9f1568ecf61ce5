// Builds dist/pglite-template.tar: an embedded database already through initdb and every
// migration, which a fresh DATA_DIR starts from (initdb in WebAssembly is most of a first start).
// Run by `npm run build:server` after tsc, from the compiled code.
import { PGlite } from '@electric-sql/pglite';
import { writeFileSync } from 'node:fs';
import { migrations } from '../dist/platform.js';
import { migrate } from '../dist/kernel/db/migrate.js';

const pg = await PGlite.create();
const sql = { query: (text, params) => pg.query(text, params), exec: (text) => pg.exec(text) };
await migrate({ ...sql, kind: 'pglite', transaction: (fn) => pg.transaction((tx) => fn(tx)), close: () => pg.close() }, migrations);
await pg.exec('checkpoint');
const tarball = await pg.dumpDataDir('none');
writeFileSync('dist/pglite-template.tar', Buffer.from(await tarball.arrayBuffer()));
await pg.close();
