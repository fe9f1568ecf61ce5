/** Timing, pacing and markdown tables shared by the benchmarks. */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin } from '@platformatic/kafka';
import type { ConsumerDefinition } from '../src/kernel/consumers/consumer.ts';
import type { Logger } from '../src/kernel/logger.ts';
import type { Platform } from '../src/platform.ts';
import { reactionConsumers } from '../src/reactions/index.ts';

/** Milliseconds `fn` takes. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** A line on stderr (the table goes to stdout); BENCH_QUIET=1 silences it. */
export const progress = (line: string): void => {
  if (!process.env.BENCH_QUIET) console.error(`  ${line}`);
};

/** Events per second. */
export const rate = (events: number, ms: number): number => (events * 1000) / ms;

/**
 * Runs `task(0..count-1)` on `concurrency` workers, each taking the next index, until all are done
 * or `deadline` (a performance.now() time) has passed; returns how many ran.
 */
export async function inParallel(
  concurrency: number,
  count: number,
  task: (index: number) => Promise<unknown>,
  deadline = Infinity,
): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < count && performance.now() < deadline) await task(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return next;
}

/**
 * Calls `fire(i, dueAt)` (without awaiting it) `perSecond` times a second for `durationMs`; returns
 * how many it fired. `dueAt` is when the call was due: measuring from it, a stalled event loop
 * counts as latency (no coordinated omission).
 */
export async function paced(
  perSecond: number,
  durationMs: number,
  fire: (index: number, dueAt: number) => void,
): Promise<number> {
  const start = performance.now();
  let fired = 0;
  for (let elapsed = 0; elapsed < durationMs; elapsed = performance.now() - start) {
    const due = Math.floor((elapsed * perSecond) / 1000);
    for (; fired < due; fired++) fire(fired, start + (fired * 1000) / perSecond);
    await sleep(1);
  }
  return fired;
}

/** Polls `done` every 5 ms; throws after `timeoutMs`. */
export async function until(what: string, done: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** The p-quantile (0..1) of unsorted values, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? NaN;
}

/** The middle value, or the mean of the middle two for an even count. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export const fmtInt = (value: number): string => Math.round(value).toLocaleString('en-US');
export const fmtMs = (value: number): string => (value < 10 ? value.toFixed(2) : value.toFixed(1));
export const fmtRatio = (value: number): string => `${value.toFixed(2)}×`;
export const verdict = (met: boolean): string => (met ? '✅' : '❌ missed');

/** Prints a markdown table (pasteable into the README). */
export function printTable(
  title: string,
  header: readonly string[],
  rows: readonly (readonly string[])[],
  notes: readonly string[] = [],
): void {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  const out = [`\n### ${title}\n`, line(header), line(header.map(() => '---')), ...rows.map(line)];
  if (notes.length > 0) out.push('', ...notes.map((note) => `- ${note}`));
  console.log(out.join('\n'));
}

const loadAtStart = os.loadavg()[0]!;

/** A one-line machine description for the table notes (the load tells whether others shared the cores). */
export const machine = (): string =>
  `${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}, load average ${loadAtStart.toFixed(1)} at start and ${os.loadavg()[0]!.toFixed(1)} at the end`;

/** The value after `--name` on the command line, if given. */
export const argOf = (name: string): string | undefined => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
};

/** Writes the bench's results as JSON to the file after `--json`, when given. */
export async function writeJson(result: unknown): Promise<void> {
  const file = argOf('json');
  if (!file) return;
  const { writeFile } = await import('node:fs/promises');
  await writeFile(
    file,
    `${JSON.stringify({ machine: machine(), at: new Date().toISOString(), argv: process.argv.slice(2), ...(result as object) }, null, 2)}\n`,
  );
  progress(`results written to ${file}`);
}

/** Deletes a bench run's Kafka topics and consumer groups (all named with `prefix`); best effort. */
export async function deleteKafkaPrefix(brokers: string, prefix: string): Promise<void> {
  const kafka = new Admin({ clientId: 'bench-cleanup', bootstrapBrokers: brokers.split(',') });
  const topics = (await kafka.listTopics().catch(() => [])).filter((topic) => topic.startsWith(prefix));
  if (topics.length > 0) await kafka.deleteTopics({ topics }).catch(() => {});
  const groups = [...(await kafka.listGroups().catch(() => new Map())).keys()].filter((group: string) =>
    group.startsWith(prefix),
  );
  if (groups.length > 0) await kafka.deleteGroups({ groups }).catch(() => {});
  await kafka.close();
}

/** The reaction consumers of a started platform, made as its consumers role makes them (the benches subscribe them). */
export const platformReactions = (platform: Platform, log: Logger = platform.log): ConsumerDefinition[] =>
  reactionConsumers({
    config: platform.config,
    plans: platform.plans,
    db: platform.db,
    store: platform.store,
    catalog: platform.catalog,
    clock: platform.clock,
    log,
  });
