import type { RequestListener } from 'node:http';
import { runMigrations } from '@flotilla/db';
import { installGracefulShutdown, type Closer, type Health } from '@flotilla/health';
import { createHttpServer, listen } from '@flotilla/http';
import { createLogger, type Logger } from '@flotilla/logging';
import { shutdownTracing } from '@flotilla/tracing';

/** The config keys {@link runService} reads (from `serviceConfigShape` and `databaseConfigShape`). */
export interface RunnableConfig {
  HOST: string;
  PORT: number;
  SERVICE_VERSION: string;
  LOG_LEVEL: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  HTTP_KEEP_ALIVE_TIMEOUT_MS: number;
  HTTP_REQUEST_TIMEOUT_MS: number;
  SHUTDOWN_DRAIN_DELAY_MS: number;
  SHUTDOWN_TIMEOUT_MS: number;
  DATABASE_URL?: string;
  MIGRATE_ON_START?: boolean;
}

/** What a service's dependencies must offer the runner. */
export interface RunnableDependencies {
  health: Health;
  /** Closed in reverse order on shutdown. */
  resources: Closer[];
}

export interface RunServiceOptions<C extends RunnableConfig, D extends RunnableDependencies> {
  name: string;
  config: C;
  /** Folder of SQL migrations, applied first when `MIGRATE_ON_START` is true. */
  migrationsDir?: string;
  createDependencies(config: C, logger: Logger): Promise<D>;
  createApp(deps: NoInfer<D>): RequestListener;
}

/**
 * What every service's `main.ts` does: log, migrate when asked, build dependencies, listen with
 * explicit timeouts, drain gracefully on SIGTERM/SIGINT (closing the tracer last). Resolves with
 * the bound port once listening.
 */
export async function runService<C extends RunnableConfig, D extends RunnableDependencies>(
  options: RunServiceOptions<C, D>,
): Promise<{ port: number; logger: Logger; deps: D }> {
  const { name, config } = options;
  const logger = createLogger({ service: name, level: config.LOG_LEVEL });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    process.exit(1);
  });

  if (config.MIGRATE_ON_START && options.migrationsDir && config.DATABASE_URL) {
    await runMigrations({
      databaseUrl: config.DATABASE_URL,
      dir: options.migrationsDir,
      log: (message) => logger.info(message),
    });
  }

  const deps = await options.createDependencies(config, logger);
  const server = createHttpServer(options.createApp(deps), {
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
  logger.info({ port, host: config.HOST, version: config.SERVICE_VERSION }, `${name} listening`);
  return { port, logger, deps };
}
