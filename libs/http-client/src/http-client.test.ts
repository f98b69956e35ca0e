import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { freePort } from '@flotilla/testing';
import {
  UpstreamUnavailableError,
  createHttpClient,
  type HttpClientOptions,
} from './http-client.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** A real upstream on a loopback port whose behaviour each test sets. */
async function startUpstream(handler: Handler) {
  const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] =
    [];
  let connections = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    connections: () => connections,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});
after(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function client(baseUrl: string, overrides: Partial<HttpClientOptions> = {}) {
  const delays: number[] = [];
  const registry = new Registry();
  const c = createHttpClient({
    upstream: 'payments',
    baseUrl,
    timeoutMs: 500,
    maxAttempts: 3,
    retryBaseDelayMs: 100,
    retryMaxDelayMs: 1000,
    breaker: { threshold: 0.5, samplingDurationMs: 5000, minimumRps: 1, halfOpenAfterMs: 300 },
    connections: 4,
    keepAliveTimeoutMs: 10_000,
    registry,
    sleep: (ms) => {
      delays.push(ms);
      return Promise.resolve();
    },
    random: () => 1,
    ...overrides,
  });
  cleanups.push(() => c.close());
  return { c, delays, registry };
}

describe('http client', () => {
  it('sends JSON and parses the JSON answer', async () => {
    const upstream = await startUpstream((_req, res, body) =>
      json(res, 201, { echoed: JSON.parse(body) }),
    );
    cleanups.push(upstream.close);
    const { c } = client(upstream.url);

    const res = await c.request<{ echoed: unknown }>({
      method: 'POST',
      path: '/things',
      body: { a: 1 },
    });

    assert.equal(res.status, 201);
    assert.deepEqual(res.body, { echoed: { a: 1 } });
    assert.equal(upstream.seen[0]?.headers['content-type'], 'application/json');
  });

  it('retries an idempotent request on 503 with exponential backoff, then succeeds', async () => {
    let calls = 0;
    const upstream = await startUpstream((_req, res) =>
      ++calls < 3 ? json(res, 503, {}) : json(res, 200, { ok: true }),
    );
    cleanups.push(upstream.close);
    const { c, delays } = client(upstream.url);

    const res = await c.request({ method: 'GET', path: '/things/1' });

    assert.equal(res.status, 200);
    assert.equal(upstream.seen.length, 3);
    assert.deepEqual(delays, [100, 200]);
  });

  it('does not retry a POST without an idempotency key', async () => {
    const upstream = await startUpstream((_req, res) => json(res, 503, { code: 'DOWN' }));
    cleanups.push(upstream.close);
    const { c } = client(upstream.url);

    const res = await c.request({ method: 'POST', path: '/charges', body: {} });

    assert.equal(res.status, 503);
    assert.equal(upstream.seen.length, 1);
  });

  it('retries a POST that carries an idempotency key, sending the same key each time', async () => {
    let calls = 0;
    const upstream = await startUpstream((_req, res) =>
      ++calls === 1 ? json(res, 502, {}) : json(res, 201, {}),
    );
    cleanups.push(upstream.close);
    const { c } = client(upstream.url);

    const res = await c.request({
      method: 'POST',
      path: '/charges',
      body: {},
      idempotencyKey: 'order-42',
    });

    assert.equal(res.status, 201);
    assert.deepEqual(
      upstream.seen.map((s) => s.headers['idempotency-key']),
      ['order-42', 'order-42'],
    );
  });

  it('hands back an answer the caller exempts from failure, without retrying or opening the circuit', async () => {
    const upstream = await startUpstream((_req, res) =>
      json(res, 502, { code: 'PROCESSOR_UNAVAILABLE' }),
    );
    cleanups.push(upstream.close);
    const { c } = client(upstream.url, {
      isFailure: (r) =>
        r.status >= 500 && (r.body as { code?: string }).code !== 'PROCESSOR_UNAVAILABLE',
    });
    for (let i = 0; i < 5; i++) {
      const res = await c.request({
        method: 'POST',
        path: '/charges',
        body: {},
        idempotencyKey: `k${i}`,
      });
      assert.equal(res.status, 502);
    }
    assert.equal(upstream.seen.length, 5, 'one attempt each');
    assert.equal(c.circuitState, 'closed');
  });

  it('hands back client errors without retrying', async () => {
    const upstream = await startUpstream((_req, res) => json(res, 422, { code: 'NOPE' }));
    cleanups.push(upstream.close);
    const { c } = client(upstream.url);

    const res = await c.request({ method: 'GET', path: '/x' });

    assert.equal(res.status, 422);
    assert.deepEqual(res.body, { code: 'NOPE' });
    assert.equal(upstream.seen.length, 1);
  });

  it('times out a slow attempt and reports the upstream unavailable', async () => {
    const upstream = await startUpstream(
      (_req, res) => void sleep(400).then(() => json(res, 200, {})),
    );
    cleanups.push(upstream.close);
    const { c } = client(upstream.url, { timeoutMs: 100, maxAttempts: 1 });

    await assert.rejects(c.request({ method: 'GET', path: '/slow' }), (err: unknown) => {
      assert.ok(err instanceof UpstreamUnavailableError);
      assert.equal(err.reason, 'timeout');
      assert.equal(err.status, 503);
      return true;
    });
  });

  it('reports a refused connection as unavailable', async () => {
    const { c } = client(`http://127.0.0.1:${await freePort()}`, { maxAttempts: 2 });
    await assert.rejects(c.request({ method: 'GET', path: '/' }), (err: unknown) => {
      assert.ok(err instanceof UpstreamUnavailableError);
      assert.equal(err.reason, 'connection');
      return true;
    });
  });

  it('opens the circuit once failures pass the threshold, then fails fast without calling', async () => {
    const upstream = await startUpstream((_req, res) => json(res, 500, {}));
    cleanups.push(upstream.close);
    const { c, registry } = client(upstream.url, { maxAttempts: 1 });

    for (let i = 0; i < 10 && c.circuitState === 'closed'; i++) {
      await c.request({ method: 'POST', path: '/charges', body: {} });
    }
    assert.equal(c.circuitState, 'open');
    const callsWhenOpened = upstream.seen.length;

    await assert.rejects(
      c.request({ method: 'POST', path: '/charges', body: {} }),
      (err: unknown) => {
        assert.ok(err instanceof UpstreamUnavailableError);
        assert.equal(err.reason, 'circuit_open');
        return true;
      },
    );
    assert.equal(
      upstream.seen.length,
      callsWhenOpened,
      'no request reaches the upstream while open',
    );
    assert.match(await registry.metrics(), /http_client_circuit_open\{upstream="payments"\} 1/);
  });

  it('closes the circuit again after a successful trial request', async () => {
    let healthy = false;
    const upstream = await startUpstream((_req, res) =>
      healthy ? json(res, 200, {}) : json(res, 500, {}),
    );
    cleanups.push(upstream.close);
    const { c } = client(upstream.url, { maxAttempts: 1 });
    for (let i = 0; i < 10 && c.circuitState === 'closed'; i++)
      await c.request({ method: 'GET', path: '/' });
    assert.equal(c.circuitState, 'open');

    healthy = true;
    await sleep(350);
    const res = await c.request({ method: 'GET', path: '/' });

    assert.equal(res.status, 200);
    assert.equal(c.circuitState, 'closed');
  });

  it('keeps the circuit closed below the volume threshold', async () => {
    const upstream = await startUpstream((_req, res) => json(res, 500, {}));
    cleanups.push(upstream.close);
    const { c } = client(upstream.url, {
      maxAttempts: 1,
      breaker: { threshold: 0.5, samplingDurationMs: 5000, minimumRps: 100, halfOpenAfterMs: 300 },
    });
    for (let i = 0; i < 5; i++) await c.request({ method: 'GET', path: '/' });
    assert.equal(c.circuitState, 'closed');
  });

  it('appends request paths to the path prefix of a base URL', async () => {
    const upstream = await startUpstream((_req, res) => json(res, 200, {}));
    cleanups.push(upstream.close);
    const { c } = client(`${upstream.url}/payment-service/`);
    await c.request({ method: 'GET', path: '/payments?orderId=1' });
    assert.equal(upstream.seen[0]?.url, '/payment-service/payments?orderId=1');
  });

  it('reuses keep-alive connections', async () => {
    const upstream = await startUpstream((_req, res) => json(res, 200, {}));
    cleanups.push(upstream.close);
    const { c } = client(upstream.url);
    for (let i = 0; i < 20; i++) await c.request({ method: 'GET', path: '/' });
    assert.ok(
      upstream.connections() <= 2,
      `20 sequential requests used ${upstream.connections()} connections`,
    );
  });

  it('counts and times every attempt by upstream, method and status', async () => {
    let calls = 0;
    const upstream = await startUpstream((_req, res) =>
      ++calls === 1 ? json(res, 503, {}) : json(res, 200, {}),
    );
    cleanups.push(upstream.close);
    const { c, registry } = client(upstream.url);
    await c.request({ method: 'GET', path: '/' });

    const text = await registry.metrics();
    assert.match(
      text,
      /http_client_requests_total\{upstream="payments",method="GET",status_code="503"\} 1/,
    );
    assert.match(
      text,
      /http_client_requests_total\{upstream="payments",method="GET",status_code="200"\} 1/,
    );
    assert.match(
      text,
      /http_client_request_duration_seconds_count\{upstream="payments",method="GET",status_code="200"\} 1/,
    );
  });
});
