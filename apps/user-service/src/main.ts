import { loadConfigOrExit } from '@flotilla/config';
import { runMigrations } from '@flotilla/db';
import { installGracefulShutdown } from '@flotilla/health';
import { createHttpServer, listen } from '@flotilla/http';
import { createLogger } from '@flotilla/logging';
import { shutdownTracing } from '@flotilla/tracing';
import { fileURLToPath } from 'node:url';
import { createApp } from './app.ts';
import { configSchema } from './config.ts';
import { SERVICE_NAME, createDependencies } from './dependencies.ts';

const config = loadConfigOrExit(SERVICE_NAME, configSchema);
const logger = createLogger({ service: SERVICE_NAME, level: config.LOG_LEVEL });

process.on('uncaughtException', (err) => {
  logger.fatal({ err }, 'uncaught exception');
  process.exit(1);
});

if (config.MIGRATE_ON_START) {
  await runMigrations({
    databaseUrl: config.DATABASE_URL,
    dir: fileURLToPath(new URL('./migrations', import.meta.url)),
    log: (message) => logger.info(message),
  });
}

const deps = await createDependencies(config, logger);
const server = createHttpServer(createApp(deps), {
  keepAliveTimeoutMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
  requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
});
installGracefulShutdown({
  server,
  health: deps.health,
  logger,
  resources: [{ name: 'tracing', close: shutdownTracing }, ...deps.resources],
  drainDelayMs: config.SHUTDOWN_DRAIN_DELAY_MS,
  timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
});
const port = await listen(server, config.PORT, config.HOST);
logger.info({ port, host: config.HOST, version: config.SERVICE_VERSION }, 'user-service listening');
