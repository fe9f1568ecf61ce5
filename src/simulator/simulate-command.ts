import { randomBytes } from 'node:crypto';
import { PlatformClient, SimulatorError } from './platform-client.ts';
import { summarize } from './platform-report.ts';
import { progressOnStderr } from './progress.ts';
import { Random } from './random.ts';
import type { SimulateOptions } from './simulate-options.ts';
import { Simulation } from './simulation.ts';
import { formatSummary } from './summary-table.ts';

/**
 * `tributary simulate`: runs the simulation against the platform at `options.url`, a progress bar
 * on stderr and the summary on stdout. A platform that cannot be simulated (unreachable, no test
 * clock, the token refused) is one line on stderr and exit code 1.
 */
export async function simulateCommand(options: SimulateOptions): Promise<void> {
  const progress = progressOnStderr();
  let warnedRateLimit = false;
  const client = new PlatformClient(options.url, options.adminToken, {
    onRateLimited: (seconds) => {
      progress.note(
        `registration rate limit: waiting ${Math.ceil(seconds)}s${warnedRateLimit ? '' : ' (raise REGISTER_RATE_LIMIT on the platform for faster runs)'}`,
      );
      warnedRateLimit = true;
    },
  });
  const runId = randomBytes(4).toString('hex');
  try {
    const result = await new Simulation(
      client,
      new Random(options.seed),
      { customers: options.customers, months: options.months, concurrency: options.concurrency, runId },
      progress,
    ).run();
    progress.stop();
    const summary = await summarize(client, result, options.concurrency);
    process.stdout.write(formatSummary(summary, options));
  } catch (error) {
    progress.stop();
    if (!(error instanceof SimulatorError)) throw error;
    console.error(`tributary simulate: ${error.message}`);
    process.exitCode = 1;
  }
}
