import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

/** `--json FILE` (and the bench's own options): every bench writes its rows there as well as printing them. */
export function benchArgs<Options extends Record<string, { type: 'string' | 'boolean' }>>(options: Options) {
  return parseArgs({
    args: process.argv.slice(2),
    options: { json: { type: 'string' }, ...options },
    allowPositionals: true,
  }).values as {
    json?: string;
  } & { [K in keyof Options]?: Options[K]['type'] extends 'string' ? string : boolean };
}

export async function writeJsonRows(
  file: string | undefined,
  bench: string,
  rows: readonly object[],
  notes: Record<string, unknown> = {},
): Promise<void> {
  if (!file) return;
  await writeFile(file, JSON.stringify({ bench, at: new Date().toISOString(), ...notes, rows }, null, 2) + '\n');
  console.log(`rows written to ${file}`);
}
