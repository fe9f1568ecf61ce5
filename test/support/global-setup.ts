import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

const run = promisify(execFile);

declare module 'vitest' {
  export interface ProvidedContext {
    /** Kafka bootstrap brokers for the tests, or null when none could be had (suites then skip, unless required). */
    kafkaBrokers: string | null;
  }
}

/**
 * Starts the project's local Kafka broker when `KAFKA_BROKERS` is not set. With REQUIRE_KAFKA=1
 * (CI) a broker that cannot be started fails the run instead of skipping the Kafka suites.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let started = false;
  let brokers = process.env.KAFKA_BROKERS ?? null;
  if (!brokers && process.env.SKIP_KAFKA !== '1') {
    try {
      const { stdout } = await run('bash', ['scripts/kafka/start.sh'], { timeout: 600_000 });
      started = !/already running/i.test(stdout);
      brokers = `127.0.0.1:${process.env.KAFKA_PORT ?? '9092'}`;
    } catch (error) {
      if (process.env.REQUIRE_KAFKA === '1')
        throw new Error(`REQUIRE_KAFKA=1 but the local Kafka broker did not start: ${(error as Error).message}`);
      console.warn(
        `Kafka suites will be skipped: the local broker did not start (${(error as Error).message.split('\n')[0]})`,
      );
    }
  }
  project.provide('kafkaBrokers', brokers);
  return async () => {
    if (started && process.env.KEEP_KAFKA !== '1') await run('bash', ['scripts/kafka/stop.sh']).catch(() => {});
  };
}
