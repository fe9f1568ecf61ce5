import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../kernel/config.ts';
import type { OpeningDatabase } from '../kernel/db/database.ts';
import { openDatabase } from '../kernel/db/open-database.ts';
import { createLogger } from '../kernel/logger.ts';
import { startGatewayService } from '../services/payments/gateway/index.ts';
import { startPlatform } from '../platform.ts';

/**
 * Runs the whole platform in this process until SIGTERM or SIGINT, then stops gracefully; `store`:
 * its store, already being opened.
 */
export async function serve(config: Config, store?: Promise<OpeningDatabase>): Promise<void> {
  const platform = await startPlatform(config, { store });
  let stopping = false;
  let failed = false;
  // A start that fails for good (a store that cannot open) ends the process; it was logged.
  platform.started.catch(async () => {
    if (stopping) return;
    failed = true;
    await platform.stop();
    process.exit(1);
  });
  const address = await platform.http.listen({ port: config.port, host: config.host });
  // The store failed while the server started listening: the process is ending, say nothing of it.
  if (failed) return;
  platform.log.info(
    { address, store: platform.db.kind, bus: platform.bus.kind, clock: config.clock },
    `tributary listening on ${address}`,
  );
  const stop = async (signal: string) => {
    stopping = true;
    platform.log.info({ signal }, 'stopping: finishing in-flight work');
    await platform.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

/** The payment gateway simulator as its own service (distributed mode), its charges in DATABASE_URL or DATA_DIR. */
export async function serveGateway(config: Config): Promise<void> {
  const log = createLogger(config.logLevel);
  const db = await openDatabase({ ...config, dataDir: join(config.dataDir, 'gateway') });
  const service = await startGatewayService({
    db,
    host: config.host,
    port: config.gateway.port,
    apiKey: config.gateway.apiKey,
    logger: log as FastifyBaseLogger,
  });
  log.info({ address: service.url }, `payment gateway simulator listening on ${service.url}`);
  const stop = async () => {
    await service.stop();
    await db.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}
