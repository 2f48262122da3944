/** Entry point: `npm start`. Reads the environment, starts Parley, drains on SIGTERM/SIGINT. */
import { createParley, randomSecret } from './app.js';
import { ConfigError, loadConfig } from './config/config.js';
import { createLogger } from './log/logger.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env, randomSecret);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const parley = await createParley(config, logger).catch((err: unknown) => {
    logger.fatal({ err }, `Parley could not start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
  const url = await parley.listen();
  parley.media.warmUp();
  logger.info({ url, storage: parley.storage.kind, docs: `${url}/api/docs` }, `Parley listening on ${url}`);

  const stop = (signal: string) => {
    logger.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutdown requested');
    const force = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown took too long; exiting anyway');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    parley.close(signal).then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

void main();
