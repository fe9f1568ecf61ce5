/**
 * `npm run bench:start [-- --runs 3 --port P --json FILE]`: how long `npm start` (the compiled
 * platform, `bin/tributary.js`) takes to answer `/health` and `/ready`, on a fresh embedded
 * DATA_DIR and on a restart over the same folder, beside baselines measured in the same run:
 * a plain `node -e` HTTP server (the floor of starting Node at all) and the platform started
 * from its TypeScript sources through tsx (what `npm start` ran before it was compiled).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { fmtMs, fmtRatio, machine, median, printTable, progress, verdict } from './support.ts';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '3' }, port: { type: 'string' }, json: { type: 'string' } },
});
const runs = Number(values.runs);

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });

const answers = async (url: string): Promise<boolean> => {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false;
  }
};

interface Timing {
  health: number;
  ready: number;
}

/** Starts `args`, polls `/health` then `/ready` every 10 ms, stops the process; ms from spawn. */
async function timeStart(args: string[], env: Record<string, string>, paths: { ready: string }): Promise<Timing> {
  const port = values.port ? Number(values.port) : await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    env: { ...process.env, LOG_LEVEL: 'warn', PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const poll = async (path: string) => {
    while (!(await answers(`http://127.0.0.1:${port}${path}`))) {
      if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited ${child.exitCode}: ${stderr}`);
      if (performance.now() - started > 60_000) throw new Error(`${args.join(' ')}: no ${path} within 60 s: ${stderr}`);
      await sleep(10);
    }
    return performance.now() - started;
  };
  try {
    const health = await poll('/health');
    const ready = await poll(paths.ready);
    return { health, ready };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

const platform = (entry: string[]) => async (dataDir: string) =>
  timeStart(entry, { DATA_DIR: dataDir }, { ready: '/ready' });
const compiled = platform(['bin/tributary.js', 'start']);
const throughTsx = platform(['--import', 'tsx', 'src/cli/main.ts', 'start']);
const plainNode = () =>
  timeStart(
    ['-e', `require('node:http').createServer((q, s) => s.end('ok')).listen(process.env.PORT, '127.0.0.1')`],
    {},
    { ready: '/' },
  );

if (!existsSync('dist/app/main.js')) throw new Error('dist/ is missing: run `npm run build` first');

interface Row {
  what: string;
  health: number[];
  ready: number[];
  goalMs?: number;
}
const rows: Row[] = [
  { what: 'baseline: plain `node -e` HTTP server', health: [], ready: [] },
  { what: 'baseline: tsx src/cli/main.ts start, fresh DATA_DIR', health: [], ready: [] },
  { what: 'npm start (compiled), fresh DATA_DIR', health: [], ready: [], goalMs: 4_000 },
  { what: 'npm start (compiled), restart on the same DATA_DIR', health: [], ready: [], goalMs: 1_500 },
];
const record = (row: Row, timing: Timing) => {
  row.health.push(timing.health);
  row.ready.push(timing.ready);
};

for (let run = 1; run <= runs; run++) {
  progress(`run ${run} of ${runs}`);
  const dirs = await Promise.all([mkdtemp(join(tmpdir(), 'bench-start-')), mkdtemp(join(tmpdir(), 'bench-start-'))]);
  try {
    record(rows[0]!, await plainNode());
    record(rows[1]!, await throughTsx(dirs[0]!));
    record(rows[2]!, await compiled(dirs[1]!));
    record(rows[3]!, await compiled(dirs[1]!));
  } finally {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

const floor = median(rows[0]!.ready);
printTable(
  `Start to /health and /ready (embedded, median of ${runs} runs, ms from spawn)`,
  ['process', '/health ms', '/ready ms', '/ready min–max ms', 'vs plain node', 'goal', 'met'],
  rows.map((row) => [
    row.what,
    fmtMs(median(row.health)),
    fmtMs(median(row.ready)),
    `${fmtMs(Math.min(...row.ready))}–${fmtMs(Math.max(...row.ready))}`,
    fmtRatio(median(row.ready) / floor),
    row.goalMs ? `< ${row.goalMs / 1000} s` : '—',
    row.goalMs ? verdict(median(row.ready) < row.goalMs) : '',
  ]),
  [machine(), '/ready answers 200 once the store is migrated, the views are set up and the bus is subscribed.'],
);

if (values.json) {
  await writeFile(
    values.json,
    JSON.stringify(
      { machine: machine(), runs, rows: rows.map((row) => ({ ...row, medianReadyMs: median(row.ready) })) },
      null,
      2,
    ),
  );
}
