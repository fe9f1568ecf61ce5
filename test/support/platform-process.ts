import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { waitFor } from './wait-for.ts';

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });

export interface PlatformProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * `npm start` as a user runs it: a real process, configured by environment variables only. It runs
 * the TypeScript sources (the tests need no build), or with `compiled` what `npm start` runs
 * (`bin/tributary.js`, the build in dist/).
 */
export async function startPlatformProcess(
  env: Record<string, string>,
  options: { waitForHealth?: boolean; command?: 'start' | 'gateway'; compiled?: boolean } = {},
): Promise<PlatformProcess> {
  const port = await freePort();
  const command = options.command ?? 'start';
  const entry = options.compiled ? ['bin/tributary.js'] : ['--import', 'tsx', 'src/cli/main.ts'];
  const child = spawn(process.execPath, [...entry, command], {
    env: { ...process.env, LOG_LEVEL: 'info', PORT: String(port), GATEWAY_PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  if (options.waitForHealth ?? true) {
    await waitFor(
      `the platform to answer on ${url} (output: ${output})`,
      async () => (await fetch(`${url}/health`)).ok,
      60_000,
    );
  }
  return {
    url,
    child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs the platform to its exit (for start-up failures). */
export function runPlatformToExit(
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
