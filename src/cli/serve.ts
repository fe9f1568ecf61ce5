import type { Config } from '../kernel/config.ts';
import { startPlatform } from '../platform.ts';

/** Runs the whole platform in this process until SIGTERM or SIGINT, then stops gracefully. */
export async function serve(config: Config): Promise<void> {
  const platform = await startPlatform(config);
  const address = await platform.http.listen({ port: config.port, host: config.host });
  platform.log.info({ address, store: platform.db.kind, bus: platform.bus.kind, clock: config.clock }, `tributary listening on ${address}`);
  const stop = async (signal: string) => {
    platform.log.info({ signal }, 'stopping: finishing in-flight work');
    await platform.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
