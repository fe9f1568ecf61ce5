// Builds dist/pglite-template.tar: an embedded database already through initdb, every migration
// and the views' schemas, which a fresh DATA_DIR starts from (initdb in WebAssembly and creating
// the schemas are most of a first start). Run by `npm run build:server`, from the compiled code.
import { PGlite } from '@electric-sql/pglite';
import { Buffer } from 'node:buffer';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../dist/kernel/config.js';
import { silentLogger } from '../dist/kernel/logger.js';
import { startPlatform } from '../dist/platform.js';

const TEMPLATE = 'dist/pglite-template.tar';
rmSync(TEMPLATE, { force: true }); // this one is built the slow way, from initdb
const dataDir = mkdtempSync(join(tmpdir(), 'tributary-template-'));
try {
  // Only the start-up work common to every process (migrations, view schemas): no role writes anything.
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', TRIBUTARY_ROLES: 'api' });
  const platform = await startPlatform(config, { log: silentLogger, consumers: [] });
  await platform.started;
  await platform.stop();
  const pg = await PGlite.create(join(dataDir, 'store'));
  await pg.exec('delete from test_clock; checkpoint'); // the test clock starts from the wall clock of its own start
  const tarball = await pg.dumpDataDir('none');
  writeFileSync(TEMPLATE, Buffer.from(await tarball.arrayBuffer()));
  await pg.close();
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
