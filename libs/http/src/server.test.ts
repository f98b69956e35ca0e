import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SERVER_TIMEOUTS, createHttpServer, listen } from './index.ts';

describe('createHttpServer', () => {
  it('sets every timeout from the defaults', () => {
    const server = createHttpServer(() => undefined);

    assert.equal(server.keepAliveTimeout, DEFAULT_SERVER_TIMEOUTS.keepAliveTimeoutMs);
    assert.equal(server.headersTimeout, DEFAULT_SERVER_TIMEOUTS.headersTimeoutMs);
    assert.equal(server.requestTimeout, DEFAULT_SERVER_TIMEOUTS.requestTimeoutMs);
  });

  it('keeps connections alive longer than a 60 s load balancer idle timeout', () => {
    const server = createHttpServer(() => undefined);

    assert.ok(server.keepAliveTimeout > 60_000);
    assert.ok(server.headersTimeout > server.keepAliveTimeout);
  });

  it('applies the given timeouts', () => {
    const server = createHttpServer(() => undefined, {
      keepAliveTimeoutMs: 5000,
      headersTimeoutMs: 9000,
      requestTimeoutMs: 12_000,
    });

    assert.equal(server.keepAliveTimeout, 5000);
    assert.equal(server.headersTimeout, 9000);
    assert.equal(server.requestTimeout, 12_000);
  });

  it('raises a headers timeout that is not above keep-alive', () => {
    const server = createHttpServer(() => undefined, {
      keepAliveTimeoutMs: 70_000,
      headersTimeoutMs: 1000,
    });

    assert.equal(server.keepAliveTimeout, 70_000);
    assert.ok(server.headersTimeout > server.keepAliveTimeout);
  });
});

describe('listen', () => {
  it('resolves the bound port when listening on port 0', async () => {
    const server = createHttpServer((_req, res) => res.end('ok'));
    const port = await listen(server, 0, '127.0.0.1');
    try {
      assert.ok(port > 0);
      assert.equal((server.address() as { port: number }).port, port);
      const res = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(await res.text(), 'ok');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('rejects when the port is taken', async () => {
    const first = createHttpServer(() => undefined);
    const port = await listen(first, 0, '127.0.0.1');
    const second = createHttpServer(() => undefined);
    try {
      await assert.rejects(listen(second, port, '127.0.0.1'), { code: 'EADDRINUSE' });
      assert.equal(second.listening, false);
    } finally {
      first.close();
    }
  });

  it('shares a port with reusePort, and the second listener serves alone once the first closes', async () => {
    const first = createHttpServer((_req, res) => res.end('first'));
    const port = await listen(first, 0, '127.0.0.1', { reusePort: true });
    const second = createHttpServer((_req, res) => res.end('second'));
    try {
      assert.equal(await listen(second, port, '127.0.0.1', { reusePort: true }), port);
      await new Promise<void>((resolve) => first.close(() => resolve()));
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } });
        assert.equal(await res.text(), 'second');
      }
    } finally {
      first.close();
      second.closeAllConnections();
      second.close();
    }
  });
});
