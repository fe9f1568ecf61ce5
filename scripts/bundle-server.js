// Bundles the platform's own modules (not its packages) into dist/app/, what `npm start` runs:
// Node loads a few chunks instead of some 300 modules, about 0.2 s of each start. The code loaded
// only when used (Kafka, PostgreSQL, the simulator, the CLI's other commands) stays in chunks of
// its own. A module's `import.meta.url` is the one its file in dist/ has, so the files it finds
// beside it (the plan catalog, the web front, the PGlite thread and template) are those tsc and
// copy-server-assets put there. Run by `npm run build:server`, after them.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';

const OUT = 'dist/app';

/** Rewrites `import.meta.url` in each source to the URL of its compiled twin in dist/. */
const compiledUrls = {
  name: 'compiled-import-meta-url',
  setup(bundler) {
    bundler.onLoad({ filter: /\/src\/.*\.ts$/ }, async ({ path }) => {
      const source = await readFile(path, 'utf8');
      if (!source.includes('import.meta.url')) return undefined;
      const twin = relative(OUT, path.replace(/^.*\/src\//, 'dist/').replace(/\.ts$/, '.js'));
      return {
        contents: source.replaceAll('import.meta.url', `new URL(${JSON.stringify(twin)}, import.meta.url).href`),
        loader: 'ts',
      };
    });
  },
};

await build({
  entryPoints: { main: 'src/cli/main.ts' },
  outdir: OUT,
  bundle: true,
  packages: 'external',
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  plugins: [compiledUrls],
});
