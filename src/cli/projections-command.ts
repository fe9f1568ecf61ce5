import type { Platform } from '../platform.ts';

/** `tributary projections`: each view's checkpoint, lag and state. */
export async function listProjections(platform: Platform): Promise<void> {
  console.log(['projection', 'schema', 'version', 'state', 'position', 'lag events', 'lag seconds'].join('\t'));
  for (const runner of platform.projections) {
    const status = await runner.status();
    console.log(
      [
        status.name,
        status.schema,
        status.version,
        status.state,
        status.checkpoint.position,
        status.lag.events,
        status.lag.seconds.toFixed(1),
      ].join('\t'),
    );
  }
}

/**
 * `tributary projections rebuild <name>`: rebuilds a view into a shadow schema and swaps it in,
 * printing progress; the platform serving the old view keeps answering meanwhile.
 */
export async function rebuildProjection(
  platform: Platform,
  name: string,
  write: (line: string) => void,
): Promise<boolean> {
  const runner = platform.projections.find((candidate) => candidate.name === name);
  if (!runner) return false;
  const rebuilt = runner.rebuild();
  const timer = setInterval(() => {
    void runner
      .status()
      .then(
        (status) =>
          status.rebuild &&
          write(`${name}: ${status.rebuild.processed}/${status.rebuild.total} events (${status.rebuild.percent}%)`),
      );
  }, 1_000);
  try {
    await rebuilt;
  } finally {
    clearInterval(timer);
  }
  const { lastRebuild } = await runner.status();
  write(`${name}: rebuilt from ${lastRebuild?.events ?? 0} events in ${lastRebuild?.seconds ?? 0} s and swapped in`);
  return true;
}
