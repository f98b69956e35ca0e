import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';

export interface ServerTimeouts {
  /** Idle keep-alive; longer than a load balancer's idle timeout (60 s on AWS ALB) so it closes first. */
  keepAliveTimeoutMs: number;
  /** Time to receive a request's headers; above the keep-alive timeout, as Node requires. */
  headersTimeoutMs: number;
  /** Time to receive a whole request. */
  requestTimeoutMs: number;
}

export const DEFAULT_SERVER_TIMEOUTS: ServerTimeouts = {
  keepAliveTimeoutMs: 65_000,
  headersTimeoutMs: 66_000,
  requestTimeoutMs: 30_000,
};

/** An http.Server with explicit timeouts; nothing is left at Node's defaults. */
export function createHttpServer(
  handler: RequestListener,
  timeouts: Partial<ServerTimeouts> = {},
): Server {
  const t = { ...DEFAULT_SERVER_TIMEOUTS, ...timeouts };
  const server = createServer(handler);
  server.keepAliveTimeout = t.keepAliveTimeoutMs;
  server.headersTimeout = Math.max(t.headersTimeoutMs, t.keepAliveTimeoutMs + 1000);
  server.requestTimeout = t.requestTimeoutMs;
  return server;
}

/**
 * Listens and resolves with the bound port (useful with port 0). With `reusePort`, several
 * processes may listen on the same port (SO_REUSEPORT): the kernel spreads new connections among
 * them, which lets a new version take over a port before the old one drains.
 */
export function listen(
  server: Server,
  port: number,
  host: string,
  { reusePort = false }: { reusePort?: boolean } = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, reusePort }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
