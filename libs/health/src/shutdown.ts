import type { Server } from 'node:http';
import { Server as NetServer } from 'node:net';
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Health } from './health.ts';

/** Something to close on shutdown: a pool, a client, a tracer. */
export interface Closer {
  readonly name: string;
  close(): Promise<void> | void;
}

export interface ShutdownOptions {
  /** The listener(s) to drain: the public one, and any other that takes traffic (a mesh port). */
  server: Server | readonly Server[];
  health: Health;
  logger: Logger;
  /** Closed in reverse order of this list: register them in the order they were opened. */
  resources: readonly Closer[];
  /** Time between turning unready and closing the listener, so load balancers notice. */
  drainDelayMs: number;
  /**
   * Once the listener is closed, how long idle keep-alive connections stay open to be used once
   * more (their next response closes them) before they are closed. A client that writes into a
   * connection at the instant the server closes it sees the request fail; this makes that rare.
   * Default 0: closed at once.
   */
  idleGraceMs?: number;
  /** After this long the process exits 1 whatever is still open. */
  timeoutMs: number;
  signals?: readonly NodeJS.Signals[];
  exit?: (code: number) => void;
  sleep?: (ms: number) => Promise<unknown>;
}

/**
 * Graceful drain on SIGTERM/SIGINT: readiness turns 503, wait `drainDelayMs`, stop accepting
 * connections, let in-flight requests finish (keep-alive connections are closed as they go idle),
 * close resources in reverse order, exit 0. A hard timeout exits 1 if anything hangs.
 * Returns the shutdown function, so it can also be triggered directly.
 */
export function installGracefulShutdown(
  options: ShutdownOptions,
): (reason: string) => Promise<void> {
  const { health, logger, resources, drainDelayMs, timeoutMs } = options;
  const servers = ([] as readonly Server[]).concat(options.server);
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const sleep = options.sleep ?? sleepFor;
  let running: Promise<void> | undefined;

  const shutdown = (reason: string): Promise<void> => {
    running ??= (async () => {
      const hardTimeout = setTimeout(() => {
        logger.error({ timeoutMs }, 'shutdown timed out; exiting');
        exit(1);
      }, timeoutMs);
      hardTimeout.unref();
      logger.info({ reason, drainDelayMs }, 'draining: readiness is now 503');
      health.startDraining();
      await sleep(drainDelayMs);

      // Responses from now on close their connection; idle keep-alive sockets are closed after
      // the grace (at once without one), then swept as they go idle.
      const closed = Promise.all(
        servers.map((server) => {
          server.prependListener('request', (_req, res) => res.setHeader('Connection', 'close'));
          // net.Server's close stops accepting and calls back once every connection has ended;
          // http.Server's would also close the idle ones at once, before their grace.
          return new Promise<void>((resolve) => {
            NetServer.prototype.close.call(server, () => resolve());
          });
        }),
      );
      const idleGraceMs = options.idleGraceMs ?? 0;
      if (idleGraceMs > 0) await Promise.race([closed, sleep(idleGraceMs)]);
      for (const server of servers) server.closeIdleConnections();
      const idleSweep = setInterval(() => {
        for (const server of servers) server.closeIdleConnections();
      }, 100);
      await closed;
      clearInterval(idleSweep);
      logger.info('listener closed; in-flight requests finished');

      let failed = false;
      for (const resource of [...resources].reverse()) {
        try {
          await resource.close();
          logger.debug({ resource: resource.name }, 'closed');
        } catch (err) {
          failed = true;
          logger.error({ err, resource: resource.name }, 'failed to close');
        }
      }
      clearTimeout(hardTimeout);
      logger.info('shutdown complete');
      exit(failed ? 1 : 0);
    })();
    return running;
  };

  for (const signal of options.signals ?? ['SIGTERM', 'SIGINT']) {
    process.once(signal, () => void shutdown(signal));
  }
  return shutdown;
}
