import { parseArgs } from 'node:util';
import { ConfigError } from '../kernel/config-error.ts';
import { DataDirInUseError, startDatabase } from '../kernel/db/open-database.ts';
import { warmUpPglite } from '../kernel/db/pglite.ts';
import { parseSimulateOptions, SimulateOptionsError } from '../simulator/simulate-options.ts';
import { UsageError } from './usage-error.ts';

/** The help text, with the configuration's variables (`describeConfig()`, loaded with the configuration). */
const usage = (
  variables: readonly { name: string; description: string; default?: string }[],
) => `Usage: tributary <command> [options]

Commands:
  start [--roles R,R] [--consumers C,C]
                             run the platform (default); --roles: api, relay, consumers, projections,
                             scheduler (default all, or TRIBUTARY_ROLES); --consumers: a subset of consumers
  migrate                    apply the database migrations and exit
  gateway                    run the payment gateway simulator as its own HTTP service (GATEWAY_PORT)
  projections                each view's projection: checkpoint, lag, state
  projections rebuild <name> rebuild a view (customers, subscriptions, analytics) into a shadow copy and swap it in
  dlq list [--consumer C]    list pending dead letters
  dlq replay <consumer>      run a consumer's dead letters through its handler again
  workflows list [--status S] [--type T]
                             list the workflows (registration sagas): status, attempts, next attempt, last error
  workflows retry <id>       run a parked workflow (compensation_failed) again now
  verify [--settle MS]       check the money invariants against the gateway and the store; exit 1 and
                             list the violations when any (waits up to MS, default 10000, for consumers)
  simulate [--customers N] [--months M] [--seed S] [--concurrency C] [--url U] [--admin-token T]
                             drive a running platform (test clock) with simulated customers; summary at the end
  help                       this text

Configuration (environment variables):
${variables
  .map(
    (variable) =>
      `  ${variable.name.padEnd(26)} ${variable.description}${variable.default ? ` (default ${variable.default})` : ''}`,
  )
  .join('\n')}
`;

async function run(argv: string[]): Promise<void> {
  // A client of a running platform, with options of its own: dispatched before the platform's.
  if (argv[0] === 'simulate') return simulate(argv.slice(1));
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      consumer: { type: 'string' },
      roles: { type: 'string' },
      consumers: { type: 'string' },
      status: { type: 'string' },
      type: { type: 'string' },
      settle: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command = 'start', ...rest] = positionals;
  // Before the configuration (zod) and the platform load: an embedded store's thread boots meanwhile.
  if (command === 'start' && !values.help) warmUpPglite();
  const { describeConfig, loadConfig } = await import('../kernel/config.ts');
  if (values.help || command === 'help') {
    process.stdout.write(usage(describeConfig()));
    return;
  }
  const config = loadConfig(undefined, { TRIBUTARY_ROLES: values.roles, TRIBUTARY_CONSUMERS: values.consumers });
  if (command === 'start') {
    // The store opens (PGlite starts in its thread) while the platform's modules load.
    const opening = startDatabase(config);
    opening.catch(() => {}); // reported by the start that awaits it
    const { serve } = await import('./serve.ts');
    return serve(config, opening);
  }
  const { runCommand } = await import('./commands.ts');
  return runCommand(command, rest, values, config);
}

async function simulate(args: string[]): Promise<void> {
  // Loaded only for this command: it and its progress bar are no part of a start.
  const { simulateCommand } = await import('../simulator/simulate-command.ts');
  const { loadConfig } = await import('../kernel/config.ts');
  try {
    return await simulateCommand(
      parseSimulateOptions(
        args,
        () => loadConfig().adminToken,
        () => Math.floor(Math.random() * 0xffff_ffff),
      ),
    );
  } catch (error) {
    if (error instanceof SimulateOptionsError) throw new UsageError(error.message);
    throw error;
  }
}

try {
  await run(process.argv.slice(2));
} catch (error) {
  if (
    error instanceof ConfigError ||
    error instanceof UsageError ||
    error instanceof DataDirInUseError ||
    (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
  ) {
    console.error(`tributary: ${(error as Error).message}`);
    process.exit(2);
  }
  throw error;
}
