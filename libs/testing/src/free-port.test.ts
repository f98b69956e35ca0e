import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { describe, it } from 'node:test';
import { defaultRange, ephemeralStart, freePort } from './free-port.ts';

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
    const range = { from: (await freePort()) - 1, to: 0 };
    range.to = range.from + 3;
    const busy = [];
    try {
      for (let port = range.from; port < range.to - 1; port++) busy.push(await listen(port));
      const ports = await Promise.all(Array.from({ length: 10 }, () => freePort(range)));

      assert.deepEqual(new Set(ports), new Set([range.to - 1]));
    } finally {
      for (const server of busy) await new Promise((resolve) => server.close(resolve));
    }
  });

  it('hands out ports below the ephemeral range, which outgoing connections take theirs from', async () => {
    const start = ephemeralStart();
    assert.ok(start, 'this Linux machine has /proc/sys/net/ipv4/ip_local_port_range');
    const { from, to } = defaultRange();
    assert.ok(to <= start && from < to, `${from}-${to} below ${start}`);
    for (const port of await Promise.all(Array.from({ length: 20 }, () => freePort()))) {
      assert.ok(port >= from && port < to, `port ${port}`);
    }
  });
});
