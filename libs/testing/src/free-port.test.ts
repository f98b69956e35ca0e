import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { describe, it } from 'node:test';
import { freePort } from './free-port.ts';

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('freePort', () => {
  it('returns a port on 127.0.0.1 that a server can bind', async () => {
    const port = await freePort();

    const server = await listen(port);

    assert.ok(port > 0 && port < 65_536, `port ${port}`);
    await new Promise((resolve) => server.close(resolve));
  });

  it('does not return a port that is in use', async () => {
    const busy = await listen(0);
    const address = busy.address();
    assert.ok(address && typeof address === 'object');
    try {
      const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));

      assert.equal(ports.includes(address.port), false);
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });
});
