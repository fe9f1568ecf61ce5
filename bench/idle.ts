/**
 * `npm run bench:idle [-- --seconds 60 --json FILE]`: the CPU an idle embedded platform uses (no
 * request, no event) over a minute, beside an idle `node` process measured over the same minute.
 * CPU time is read from /proc/<pid>/stat (Linux): user + system time of the process.
 * Goal: < 1% of a core.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { machine, printTable, progress, verdict } from './support.ts';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '60' }, port: { type: 'string' }, json: { type: 'string' } },
});
const seconds = Number(values.seconds);
const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** User + system CPU seconds the process has used so far. */
const cpuSeconds = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // after "pid (comm) "
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond; // utime, stime
};

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });

const stopped = (child: ChildProcess) =>
  new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));

if (!existsSync('dist/app/main.js')) throw new Error('dist/ is missing: run `npm run build` first');
const dataDir = await mkdtemp(join(tmpdir(), 'bench-idle-'));
const port = values.port ? Number(values.port) : await freePort();
const platform = spawn(process.execPath, ['bin/tributary.js', 'start'], {
  env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn' },
  stdio: 'ignore',
});
const baseline = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
try {
  const deadline = performance.now() + 120_000;
  for (;;) {
    if (platform.exitCode !== null) throw new Error(`the platform exited with ${platform.exitCode}`);
    if (performance.now() > deadline) throw new Error('the platform was not ready within 120 s');
    const ready = await fetch(`http://127.0.0.1:${port}/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    await sleep(100);
  }
  progress('ready; letting the start settle for 5 s');
  await sleep(5_000);
  if (baseline.exitCode !== null) throw new Error(`the baseline exited with ${baseline.exitCode}`);
  const before = { platform: cpuSeconds(platform.pid!), baseline: cpuSeconds(baseline.pid!) };
  const started = performance.now();
  progress(`measuring for ${seconds} s`);
  await sleep(seconds * 1000);
  const wall = (performance.now() - started) / 1000;
  const used = {
    platform: cpuSeconds(platform.pid!) - before.platform,
    baseline: cpuSeconds(baseline.pid!) - before.baseline,
  };
  const percent = (cpu: number) => (cpu / wall) * 100;
  printTable(
    `CPU of an idle process over ${Math.round(wall)} s (one core = 100%)`,
    ['process', 'CPU s', '% of a core', 'goal', 'met'],
    [
      [
        'baseline: idle `node -e "setInterval(…, 1000)"`',
        used.baseline.toFixed(2),
        percent(used.baseline).toFixed(2),
        '—',
        '',
      ],
      [
        'npm start (embedded, fresh DATA_DIR), no traffic',
        used.platform.toFixed(2),
        percent(used.platform).toFixed(2),
        '< 1%',
        verdict(percent(used.platform) < 1),
      ],
    ],
    [
      machine(),
      `CPU time from /proc/<pid>/stat (user + system, ${ticksPerSecond} ticks a second), measured from 5 s after /ready.`,
    ],
  );
  if (values.json)
    await writeFile(
      values.json,
      JSON.stringify(
        {
          machine: machine(),
          seconds: wall,
          cpuSeconds: used,
          percentOfCore: { platform: percent(used.platform), baseline: percent(used.baseline) },
        },
        null,
        2,
      ),
    );
} finally {
  platform.kill('SIGTERM');
  baseline.kill('SIGTERM');
  await Promise.all([stopped(platform), stopped(baseline)]);
  await rm(dataDir, { recursive: true, force: true });
}
