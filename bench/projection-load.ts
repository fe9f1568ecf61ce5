/**
 * HTTP load for the query benchmark: N keep-alive connections, each sending its next GET as soon as
 * the previous answer arrived (closed loop), for a fixed time. It runs in a worker thread so the
 * client's own work does not sit on the server's event loop (the platform runs in this process).
 */
import { Worker } from 'node:worker_threads';

export interface LoadResult {
  /** Milliseconds from sending each request to the end of its answer. */
  latencies: number[];
  /** Answers by HTTP status. */
  statuses: Record<number, number>;
  errors: number;
  elapsedMs: number;
}

export interface LoadSpec {
  port: number;
  token: string;
  /** Paths requested in turn (each connection takes the next one). */
  paths: readonly string[];
  concurrency: number;
  durationMs: number;
}

// Plain JavaScript: an eval'd worker does not go through tsx.
const WORKER = /* js */ `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { port, token, paths, concurrency, durationMs } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const latencies = [];
const statuses = {};
let errors = 0;
let next = 0;
const get = (path) => new Promise((resolve) => {
  const started = performance.now();
  const request = http.get({ host: '127.0.0.1', port, path, agent, headers: { authorization: 'Bearer ' + token } }, (response) => {
    response.resume();
    response.on('end', () => {
      latencies.push(performance.now() - started);
      statuses[response.statusCode] = (statuses[response.statusCode] || 0) + 1;
      resolve();
    });
  });
  request.on('error', () => { errors++; resolve(); });
});
(async () => {
  const started = performance.now();
  const deadline = started + durationMs;
  const connection = async () => { while (performance.now() < deadline) await get(paths[next++ % paths.length]); };
  await Promise.all(Array.from({ length: concurrency }, connection));
  agent.destroy();
  parentPort.postMessage({ latencies, statuses, errors, elapsedMs: performance.now() - started });
})();
`;

/** Runs the load and resolves to every request's latency. */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { eval: true, workerData: { ...spec, paths: [...spec.paths] } });
    worker.once('message', (result: LoadResult) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}
