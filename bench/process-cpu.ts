/**
 * CPU time a server and its PostgreSQL backends used (Linux `/proc`), so a bench can say what a
 * request costs beside what it gets: on a loaded machine requests/s move with the neighbours, the
 * CPU per request less (it still grows with contention: compare runs at like loads).
 */
import { readFile } from 'node:fs/promises';
import pg from 'pg';

/** `/proc/<pid>/stat` counts in USER_HZ, which Linux fixes at 100 for user space. */
const MS_PER_TICK = 10;

/** User + system CPU milliseconds of process `pid` so far (0 once it is gone). */
async function processCpuMs(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces), from the 3rd: utime is the 14th, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
  } catch {
    return 0;
  }
}

export interface CpuReading {
  serverMs: number;
  /** Per backend pid: a backend that appears later counts from zero. */
  backends: Map<number, number>;
}

/** The server process's CPU and that of the PostgreSQL backends it opened as `applicationName` (PGAPPNAME). */
export async function readCpu(databaseUrl: string, serverPid: number, applicationName: string): Promise<CpuReading> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'bench-cpu-reader' });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      'select pid from pg_stat_activity where application_name = $1',
      [applicationName],
    );
    const backends = new Map<number, number>();
    for (const { pid } of rows) backends.set(pid, await processCpuMs(pid));
    return { serverMs: await processCpuMs(serverPid), backends };
  } finally {
    await client.end();
  }
}

/** CPU milliseconds between two readings: the server's and its backends' (null when /proc saw none). */
export function cpuBetween(
  before: CpuReading,
  after: CpuReading,
): { serverMs: number; databaseMs: number | null } | null {
  if (after.serverMs === 0) return null;
  let databaseMs = 0;
  for (const [pid, ms] of after.backends) databaseMs += ms - (before.backends.get(pid) ?? 0);
  return { serverMs: after.serverMs - before.serverMs, databaseMs: after.backends.size ? databaseMs : null };
}
