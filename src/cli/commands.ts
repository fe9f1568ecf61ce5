import type { Config } from '../kernel/config.ts';
import { ConsumerRunner } from '../kernel/consumers/consumer-runner.ts';
import { replayDeadLetters } from '../kernel/consumers/replay-dead-letters.ts';
import { migrate } from '../kernel/db/migrate.ts';
import { silentLogger } from '../kernel/logger.ts';
import { SagaNotParkedError } from '../kernel/saga/saga-orchestrator.ts';
import { migrations, startPlatform } from '../platform.ts';
import { reactionConsumers } from '../reactions/index.ts';
import { loadPlans } from '../services/plans/index.ts';
import { listProjections, rebuildProjection } from './projections-command.ts';
import { serveGateway } from './serve.ts';
import { UsageError } from './usage-error.ts';
import { verifyCommand } from './verify-command.ts';
import { listWorkflows, retryWorkflow } from './workflows-command.ts';

/** The options of the commands below, as `parseArgs` read them. */
export interface CommandOptions {
  consumer?: string;
  status?: string;
  type?: string;
  settle?: string;
}

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

/** Every command but `start`, `simulate` and `help`: each opens the store, does its work and stops. */
export async function runCommand(
  command: string,
  rest: string[],
  values: CommandOptions,
  config: Config,
): Promise<void> {
  switch (command) {
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
            const attempts = letter.poison ? 'poison' : `${letter.attempts} attempts`;
            const fields = [letter.id, letter.consumer, letter.eventType ?? '-', letter.eventId ?? '-', attempts];
            console.log([...fields, letter.error].join('\t'));
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
