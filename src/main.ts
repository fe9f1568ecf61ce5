import { ConfigError, loadConfig, type Config } from './kernel/config.ts';
import { startPlatform } from './platform.ts';

/** `npm start`: the whole platform in one process, stopped gracefully by SIGTERM or SIGINT. */
export async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`tributary: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
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

await main();
