import { connect } from 'node:net';

/**
 * For the tests: a GET over a raw socket, so that no instrumented client adds or replaces trace
 * headers. Resolves with the whole reply, status line first.
 */
export function rawGet(
  base: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
      socket.write(
        [`GET ${path} HTTP/1.1`, `Host: ${hostname}`, 'Connection: close', ...lines, '', ''].join(
          '\r\n',
        ),
      );
    });
    let reply = '';
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString()));
    socket.once('end', () => resolve(reply));
    socket.once('error', reject);
  });
}
