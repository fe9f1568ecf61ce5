import { parseArgs } from 'node:util';
import { ConfigError, describeConfig, loadConfig, type Config } from '../kernel/config.ts';
import { ConsumerRunner } from '../kernel/consumers/consumer-runner.ts';
import { replayDeadLetters } from '../kernel/consumers/replay-dead-letters.ts';
import { migrate } from '../kernel/db/migrate.ts';
import { DataDirInUseError } from '../kernel/db/open-database.ts';
import { silentLogger } from '../kernel/logger.ts';
import { migrations, startPlatform } from '../platform.ts';
import { reactionConsumers } from '../reactions/index.ts';
import { loadPlans } from '../services/plans/index.ts';
import { parseSimulateOptions, SimulateOptionsError } from '../simulator/simulate-options.ts';
import { serve, serveGateway } from './serve.ts';
import { listProjections, rebuildProjection } from './projections-command.ts';
import { listWorkflows, retryWorkflow } from './workflows-command.ts';
import { SagaNotParkedError } from '../kernel/saga/saga-orchestrator.ts';
import { verifyCommand } from './verify-command.ts';

const USAGE = `Usage: tributary <command> [options]

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
${describeConfig()
  .map(
    (variable) =>
      `  ${variable.name.padEnd(26)} ${variable.description}${variable.default ? ` (default ${variable.default})` : ''}`,
  )
  .join('\n')}
`;

/** A one-line message for the operator, then exit code 2. */
class UsageError extends Error {}

async function withPlatform<T>(
  config: Config,
  work: (platform: Awaited<ReturnType<typeof startPlatform>>) => Promise<T>,
): Promise<T> {
  // No role: the command's own work alone, on a migrated store (no consumer, relay or scheduler).
  const platform = await startPlatform({ ...config, logLevel: 'error', roles: new Set() }, { consumers: [] });
  try {
    await platform.started;
    return await work(platform);
  } finally {
    await platform.stop();
  }
}

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
  if (values.help || command === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  const config = loadConfig(undefined, { TRIBUTARY_ROLES: values.roles, TRIBUTARY_CONSUMERS: values.consumers });
  switch (command) {
    case 'start':
      return serve(config);
    case 'gateway':
      return serveGateway(config);
    case 'migrate':
      return withPlatform(config, async (platform) => {
        const applied = await migrate(platform.db, migrations);
        console.log(applied.length ? `applied: ${applied.join(', ')}` : 'up to date');
      });
    case 'projections': {
      const [action, name] = rest;
      if (action === undefined || action === 'list') return withPlatform(config, listProjections);
      if (action === 'rebuild' && name) {
        return withPlatform(config, async (platform) => {
          const known = await rebuildProjection(platform, name, (line) => console.log(line));
          if (!known)
            throw new UsageError(
              `unknown projection: ${name} (known: ${platform.projections.map((p) => p.name).join(', ')})`,
            );
        });
      }
      throw new UsageError('usage: tributary projections [list] | tributary projections rebuild <name>');
    }
    case 'dlq': {
      const [action, consumer] = rest;
      if (action === 'list') {
        return withPlatform(config, async (platform) => {
          const letters = await platform.deadLetters.list({ consumer: values.consumer });
          for (const letter of letters) {
            console.log(
              `${letter.id}\t${letter.consumer}\t${letter.eventType ?? '-'}\t${letter.eventId ?? '-'}\t${letter.poison ? 'poison' : `${letter.attempts} attempts`}\t${letter.error}`,
            );
          }
          if (letters.length === 0) console.log('no dead letters');
        });
      }
      if (action === 'replay' && consumer) {
        return withPlatform(config, async (platform) => {
          const reactions = reactionConsumers({
            config,
            plans: await loadPlans(config.plansFile),
            db: platform.db,
            store: platform.store,
            catalog: platform.catalog,
            clock: platform.clock,
            log: silentLogger,
          });
          const definition = reactions.find((reaction) => reaction.name === consumer);
          if (!definition)
            throw new UsageError(
              `unknown consumer: ${consumer} (known: ${reactions.map((r) => r.name).join(', ') || 'none'})`,
            );
          const runner = new ConsumerRunner(definition, { ...platform, log: silentLogger, retry: config.retry });
          const report = await replayDeadLetters(runner, platform.deadLetters);
          console.log(`${consumer}: ${report.replayed} replayed, ${report.failed.length} failed again`);
          for (const failure of report.failed) console.log(`  ${failure.id}: ${failure.error}`);
        });
      }
      throw new UsageError('usage: tributary dlq list [--consumer C] | tributary dlq replay <consumer>');
    }
    case 'workflows': {
      const [action, id] = rest;
      const statuses = ['running', 'completed', 'compensating', 'compensated', 'compensation_failed'];
      if (values.status !== undefined && !statuses.includes(values.status))
        throw new UsageError(`--status: one of ${statuses.join(', ')}`);
      const write = (line: string) => console.log(line);
      if (action === undefined || action === 'list') {
        return withPlatform(config, (platform) =>
          listWorkflows(platform, { status: values.status as never, type: values.type }, write),
        );
      }
      if (action === 'retry' && id) {
        return withPlatform(config, async (platform) => {
          try {
            await retryWorkflow(platform, id, write);
          } catch (error) {
            if (error instanceof SagaNotParkedError) throw new UsageError(error.message);
            throw error;
          }
        });
      }
      throw new UsageError('usage: tributary workflows list [--status S] [--type T] | tributary workflows retry <id>');
    }
    case 'verify': {
      const settleMs = Number(values.settle ?? 10_000);
      if (!Number.isInteger(settleMs) || settleMs < 0 || settleMs > 600_000)
        throw new UsageError('--settle: milliseconds, 0..600000');
      const code = await withPlatform(config, (platform) =>
        verifyCommand(platform, settleMs, (line) => console.log(line)),
      );
      process.exitCode = code;
      return;
    }
    default:
      throw new UsageError(`unknown command: ${command} (see tributary --help)`);
  }
}

async function simulate(args: string[]): Promise<void> {
  // Loaded only for this command: it and its progress bar are no part of a start.
  const { simulateCommand } = await import('../simulator/simulate-command.ts');
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
