#!/usr/bin/env node
// The `tributary` command: the JavaScript compiled into dist/ and bundled into dist/app/ by `npm run
// build` (run by `npm install`).
import { existsSync } from 'node:fs';
import { URL } from 'node:url';

const main = new URL('../dist/app/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('tributary: dist/ is missing; run `npm run build` (npm install runs it)');
  process.exit(2);
}
await import(main.href);
