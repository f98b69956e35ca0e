import { createServer, type RequestListener } from 'node:http';
import { runMigrations } from '@flotilla/db';
import type { Faults } from '@flotilla/faults';
import { installGracefulShutdown, type Closer, type Health } from '@flotilla/health';
import { createAdminApp, createHttpServer, listen } from '@flotilla/http';
import { createLogger, type Logger } from '@flotilla/logging';
import { serverSpans, shutdownTracing } from '@flotilla/tracing';
import type { Express } from 'express';

/** The config keys {@link runService} reads (from `serviceConfigShape` and `databaseConfigShape`). */
export interface RunnableConfig {
  HOST: string;
  PORT: number;
  SERVICE_VERSION: string;
  LOG_LEVEL: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  HTTP_KEEP_ALIVE_TIMEOUT_MS: number;
  HTTP_REQUEST_TIMEOUT_MS: number;
  HTTP_REUSE_PORT: boolean;
  SHUTDOWN_DRAIN_DELAY_MS: number;
  SHUTDOWN_IDLE_GRACE_MS: number;
  SHUTDOWN_TIMEOUT_MS: number;
  DATABASE_URL?: string;
  DB_CONNECTION_TIMEOUT_MS?: number;
  MIGRATE_ON_START?: boolean;
  ADMIN_HOST: string;
  ADMIN_PORT: number;
  ADMIN_TOKEN?: string | undefined;
}

/** What a service's dependencies must offer the runner. */
export interface RunnableDependencies {
  health: Health;
  /** Closed in reverse order on shutdown. */
  resources: Closer[];
  /** Fault flags, changed at run time through the admin API. */
  faults: Faults;
}

export interface RunServiceOptions<C extends RunnableConfig, D extends RunnableDependencies> {
  name: string;
  config: C;
  /** Folder of SQL migrations, applied first when `MIGRATE_ON_START` is true. */
  migrationsDir?: string;
  createDependencies(config: C, logger: Logger): Promise<D>;
  createApp(deps: NoInfer<D>): RequestListener;
  /** The service's own admin routes, beside `/admin/faults` (the gateway's traffic weights). */
  adminRoutes?: (app: Express, deps: NoInfer<D>) => void;
  /**
   * Other listeners that take traffic like the public one (the gateway's mesh port): served with
   * the same timeouts, drained together with it on shutdown.
   */
  listeners?: (deps: NoInfer<D>) => ExtraListener[];
}

/** A listener beside the public one. */
export interface ExtraListener {
  name: string;
  port: number;
  host: string;
  handler: RequestListener;
}

/**
 * What every service's `main.ts` does: log, migrate when asked, build dependencies, listen with
 * explicit timeouts, serve the admin API when `ADMIN_TOKEN` is set, drain gracefully on
 * SIGTERM/SIGINT (closing the tracer last). Resolves with the bound ports once listening.
 */
export async function runService<C extends RunnableConfig, D extends RunnableDependencies>(
  options: RunServiceOptions<C, D>,
): Promise<{ port: number; adminPort: number | undefined; logger: Logger; deps: D }> {
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
      connectionTimeoutMs: config.DB_CONNECTION_TIMEOUT_MS,
      log: (message) => logger.info(message),
    });
  }

  const deps = await options.createDependencies(config, logger);
  const timeouts = {
    keepAliveTimeoutMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
  };
  // With tracing on, every request to every listener is a server span.
  const server = createHttpServer(serverSpans(options.createApp(deps)), timeouts);
  const extras = (options.listeners?.(deps) ?? []).map((listener) => ({
    ...listener,
    server: createHttpServer(serverSpans(listener.handler), timeouts),
  }));
  const token = config.ADMIN_TOKEN;
  const admin =
    token === undefined
      ? undefined
      : createServer(
          serverSpans(
            createAdminApp({
              token,
              logger,
              routes: (app) => {
                deps.faults.adminRoutes(app);
                options.adminRoutes?.(app, deps);
              },
            }),
          ),
        );
  const adminCloser: Closer[] = admin
    ? [
        {
          name: 'admin API',
          close: () =>
            new Promise<void>((done) => {
              admin.close(() => done());
              admin.closeAllConnections();
            }),
        },
      ]
    : [];
  installGracefulShutdown({
    server: [server, ...extras.map((extra) => extra.server)],
    health: deps.health,
    logger,
    resources: [{ name: 'tracing', close: shutdownTracing }, ...deps.resources, ...adminCloser],
    drainDelayMs: config.SHUTDOWN_DRAIN_DELAY_MS,
    idleGraceMs: config.SHUTDOWN_IDLE_GRACE_MS,
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  });
  const reusePort = config.HTTP_REUSE_PORT;
  // A process that may join a port others already serve joins it ready, never before.
  if (reusePort) await untilReady(deps.health, logger);
  const port = await listen(server, config.PORT, config.HOST, { reusePort });
  logger.info({ port, host: config.HOST, version: config.SERVICE_VERSION }, `${name} listening`);
  for (const extra of extras) {
    const bound = await listen(extra.server, extra.port, extra.host, { reusePort });
    logger.info({ port: bound, host: extra.host }, `${extra.name} listening`);
  }
  let adminPort: number | undefined;
  if (admin) {
    adminPort = await listen(admin, config.ADMIN_PORT, config.ADMIN_HOST);
    logger.info({ port: adminPort, host: config.ADMIN_HOST }, 'admin API listening');
  } else {
    logger.info('ADMIN_TOKEN is not set: the admin API (fault flags and the like) is off');
  }
  return { port, adminPort, logger, deps };
}

async function untilReady(health: Health, logger: Logger): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const report = await health.readiness();
    if (report.status === 'ready' || report.status === 'degraded') return;
    if (attempt === 1)
      logger.info({ checks: report.checks }, 'waiting to be ready before listening');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
