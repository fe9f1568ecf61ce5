import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

/**
 * Runs `work` under V8's profilers when BENCH_CPU_PROFILE names a file (a .cpuprofile) or
 * BENCH_HEAP_PROFILE does (a .heapprofile of what was allocated, collected or not), and writes
 * them there to open in Chrome's DevTools: a bench's phase alone, not its set-up.
 */
export async function profiled<T>(work: () => Promise<T>): Promise<T> {
  const cpuFile = process.env.BENCH_CPU_PROFILE;
  const heapFile = process.env.BENCH_HEAP_PROFILE;
  if (!cpuFile && !heapFile) return work();
  const session = new Session();
  session.connect();
  if (cpuFile) await session.post('Profiler.enable').then(() => session.post('Profiler.start'));
  if (heapFile)
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 16_384,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  try {
    return await work();
  } finally {
    if (cpuFile) await writeFile(cpuFile, JSON.stringify((await session.post('Profiler.stop')).profile));
    if (heapFile) await writeFile(heapFile, JSON.stringify((await session.post('HeapProfiler.stopSampling')).profile));
    session.disconnect();
  }
}
