import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Ports handed out here: below the kernel's ephemeral range, above most fixed servers' ports. */
const FLOOR = 20_000;
const CEILING = 30_000; // Kubernetes NodePorts start at 30000

/**
 * A free TCP port on 127.0.0.1 for a server a test is about to start. It comes from below the
 * kernel's ephemeral range: a port from that range (what listening on port 0 gives) is also
 * what the kernel gives outgoing connections, so one made anywhere on the machine between this
 * call and the server's listen takes it and the server fails with EADDRINUSE. Below the range
 * only another listener can take it. Where the range cannot be read, the kernel picks.
 */
export async function freePort(range: PortRange = defaultRange()): Promise<number> {
  for (let attempt = 0; attempt < 100 && range.to > range.from; attempt++) {
    const port = range.from + Math.floor(Math.random() * (range.to - range.from));
    if ((await listenOnce(port)) !== undefined) return port;
  }
  const port = await listenOnce(0);
  if (port === undefined) throw new Error('no free port on 127.0.0.1');
  return port;
}

/** Ports from `from` up to, not including, `to`. */
export interface PortRange {
  from: number;
  to: number;
}

/** Below the ephemeral range; empty (the kernel picks) where the range cannot be read. */
export function defaultRange(): PortRange {
  return { from: FLOOR, to: Math.min(CEILING, ephemeralStart() ?? FLOOR) };
}

/** The first port of the kernel's ephemeral range, which outgoing connections use. */
export function ephemeralStart(): number | undefined {
  try {
    const low = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0],
    );
    return Number.isInteger(low) && low > 0 ? low : undefined;
  } catch {
    return undefined;
  }
}

/** Listens on `port` and closes again: the port it got, or undefined when it was taken. */
function listenOnce(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        resolve(address && typeof address === 'object' ? address.port : undefined),
      );
    });
  });
}
