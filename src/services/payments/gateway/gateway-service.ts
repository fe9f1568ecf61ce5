import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Clock } from '../../../kernel/clock.ts';
import type { Database } from '../../../kernel/db/database.ts';
import { migrate } from '../../../kernel/db/migrate.ts';
import { gatewayMigrations } from './charge-store.ts';
import { buildGatewayServer } from './gateway-server.ts';
import { SimulatedGateway } from './simulated-gateway.ts';

export interface GatewayServiceOptions {
  /** Where the charges are kept (migrated here); in memory when absent (lost on restart). */
  db?: Database;
  clock?: Clock;
  host: string;
  port: number;
  apiKey?: string;
  latencyMs?: number;
  /** Exposes `/simulator/*` (fault injection, counters) for tests. Never in production. */
  exposeControls?: boolean;
  logger?: FastifyBaseLogger;
}

export interface GatewayService {
  simulator: SimulatedGateway;
  server: FastifyInstance;
  /** e.g. `http://127.0.0.1:4010`, for `HttpGateway`. */
  url: string;
  stop(): Promise<void>;
}

/** The simulator as its own HTTP service (distributed mode), e.g. behind a `tributary gateway` command. */
export async function startGatewayService(options: GatewayServiceOptions): Promise<GatewayService> {
  if (options.db) await migrate(options.db, gatewayMigrations);
  const simulator = new SimulatedGateway({
    ...(options.db ? { store: options.db } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    latencyMs: options.latencyMs ?? 0,
  });
  const server = buildGatewayServer(simulator, {
    ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }),
    ...(options.exposeControls ? { simulator } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const url = await server.listen({ host: options.host, port: options.port });
  return { simulator, server, url, stop: () => server.close() };
}
