import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import { rawGet } from './raw-get.ts';
import { serverSpans } from './server-spans.ts';
import { shutdownTracing, startTracing } from './tracing.ts';

// The SDK starts before the instrumented modules load, as instrumentation.ts arranges with
// `node --import`; express and node:http are therefore imported dynamically below.
const exporter = new InMemorySpanExporter();
const tracing = startTracing({
  serviceName: 'orders',
  serviceVersion: '1.2.3',
  env: {},
  spanProcessors: [new SimpleSpanProcessor({ exporter })],
});
const { default: express } = await import('express');
const http = await import('node:http');
const { createMetrics } = await import('@flotilla/metrics');
const { createLogger, requestLogger } = await import('@flotilla/logging');

/** The request log's lines, as the kit writes them. */
const logLines: Record<string, unknown>[] = [];
const logger = createLogger({
  service: 'orders',
  destination: {
    write: (line: string) => {
      logLines.push(JSON.parse(line) as Record<string, unknown>);
    },
  },
});

let server: ReturnType<typeof http.createServer>;
let base: string;

before(async () => {
  const app = express();
  // As createServiceApp wires it: the metrics' middleware records the route a request matched,
  // which names its server span.
  app.use(createMetrics({ service: 'orders', defaultMetrics: false }).httpMiddleware);
  app.use(requestLogger(logger));
  app.use(function kitMiddleware(_req, _res, next) {
    next();
  });
  // The span active once the body is read, by the request's own events (body-parser keeps the
  // context of its caller by itself).
  app.post('/echo-span', (req, res) => {
    let length = 0;
    req.on('data', (chunk: Buffer) => (length += chunk.length));
    req.on('end', () => {
      res.json({ spanId: trace.getActiveSpan()?.spanContext().spanId, length });
    });
  });
  app.get('/fails', (_req, res) => {
    res.status(503).json({ failed: true });
  });
  const router = express.Router();
  router.get('/routed', (_req, res) => {
    res.json({ routed: true });
  });
  app.use(router);
  app.get('/things/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  for (const probe of ['/health', '/ready', '/metrics']) {
    app.get(probe, (_req, res) => {
      res.json({ ok: true });
    });
  }
  server = http.createServer(serverSpans(app));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  // Last: the in-memory exporter forgets its spans on shutdown.
  await shutdownTracing();
});

const spans = () => exporter.getFinishedSpans();
const inTrace = (traceId: string) => spans().filter((s) => s.spanContext().traceId === traceId);
const serverSpanFor = (path: string) =>
  spans().find((s) => s.kind === SpanKind.SERVER && s.attributes['url.path'] === path);
const clientSpanFor = (url: string) =>
  spans().find((s) => s.kind === SpanKind.CLIENT && s.attributes['url.full'] === url);

/** Spans end when the response is done, which can be just after the caller has its reply. */
async function eventually<T>(what: string, find: () => T | undefined): Promise<T> {
  for (let waited = 0; waited < 5000; waited += 10) {
    const found = find();
    if (found !== undefined) return found;
    await sleep(10);
  }
  throw new Error(
    `${what} was not recorded; spans: ${spans()
      .map((s) => s.name)
      .join(', ')}`,
  );
}

describe('startTracing with span processors', () => {
  it('is enabled', () => {
    assert.equal(tracing.enabled, true);
  });

  it('records a server span named after the express route', async () => {
    const response = await fetch(`${base}/things/1`);
    assert.equal(response.status, 200);

    const span = await eventually('the server span', () => serverSpanFor('/things/1'));

    assert.equal(span.name, 'GET /things/:id');
    assert.equal(span.attributes['http.route'], '/things/:id');
    assert.equal(span.attributes['http.response.status_code'], 200);
  });

  it('makes no spans for the middlewares, routers and handler a request goes through', async () => {
    const response = await fetch(`${base}/things/6`);
    assert.equal(response.status, 200);

    const server = await eventually('the server span', () => serverSpanFor('/things/6'));
    const inside = inTrace(server.spanContext().traceId).filter(
      (s) => s.kind === SpanKind.INTERNAL,
    );
    assert.deepEqual(
      inside.map((s) => s.name),
      [],
    );
  });

  it('leaves a request no route matched named by its method alone', async () => {
    assert.equal((await fetch(`${base}/nowhere`)).status, 404);

    const span = await eventually('the server span', () => serverSpanFor('/nowhere'));
    assert.equal(span.name, 'GET');
    assert.equal(span.attributes['http.route'], undefined);
  });

  it('names the server span after the route of a router too', async () => {
    await fetch(`${base}/routed`);

    const span = await eventually('the server span', () => serverSpanFor('/routed'));

    assert.equal(span.name, 'GET /routed');
  });

  it('puts the outgoing fetch and the request it served in one trace, client as parent', async () => {
    const url = `${base}/things/2`;
    await (await fetch(url)).json();

    const client = await eventually('the fetch span', () => clientSpanFor(url));
    const served = await eventually('the server span', () => serverSpanFor('/things/2'));

    assert.equal(served.spanContext().traceId, client.spanContext().traceId);
    assert.equal(served.parentSpanContext?.spanId, client.spanContext().spanId);
  });

  it('continues the trace of an incoming W3C traceparent header', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';

    const reply = await rawGet(base, '/things/3', { traceparent: `00-${traceId}-${parentId}-01` });

    assert.match(reply, /^HTTP\/1\.1 200/);
    const served = await eventually('the server span', () => serverSpanFor('/things/3'));
    assert.equal(served.spanContext().traceId, traceId);
    assert.equal(served.parentSpanContext?.spanId, parentId);
    assert.equal(served.parentSpanContext?.isRemote, true);
  });

  it('makes no spans for /health, /ready and /metrics on the serving side', async () => {
    const probes = ['/health', '/ready', '/metrics'];
    for (const probe of probes) assert.equal((await fetch(`${base}${probe}`)).status, 200);
    // A traced request after the probes: once its span is in, the probes' would be too.
    await fetch(`${base}/things/4`);
    await eventually('the server span after the probes', () => serverSpanFor('/things/4'));

    for (const probe of probes) {
      const client = await eventually(`the fetch span of ${probe}`, () =>
        clientSpanFor(`${base}${probe}`),
      );
      const others = inTrace(client.spanContext().traceId).filter((s) => s !== client);
      assert.deepEqual(
        others.map((s: ReadableSpan) => s.name),
        [],
        `${probe} made spans`,
      );
    }
  });

  it('records the request as the HTTP semantic conventions name it', async () => {
    const response = await fetch(`${base}/things/7?secret=1`, {
      headers: { 'user-agent': 'probe/1.0', 'x-forwarded-for': '203.0.113.9, 10.0.0.1' },
    });
    assert.equal(response.status, 200);

    const span = await eventually('the server span', () => serverSpanFor('/things/7'));
    const { port } = new URL(base);
    assert.deepEqual(
      {
        method: span.attributes['http.request.method'],
        scheme: span.attributes['url.scheme'],
        query: span.attributes['url.query'],
        server: span.attributes['server.address'],
        port: span.attributes['server.port'],
        client: span.attributes['client.address'],
        peer: span.attributes['network.peer.address'],
        agent: span.attributes['user_agent.original'],
        status: span.status.code,
      },
      {
        method: 'GET',
        scheme: 'http',
        query: undefined,
        server: '127.0.0.1',
        port: Number(port),
        client: '203.0.113.9',
        peer: '127.0.0.1',
        agent: 'probe/1.0',
        status: SpanStatusCode.UNSET,
      },
    );
  });

  it('records the server address of a Host header without a port', async () => {
    assert.match(await rawGet(base, '/things/9'), /^HTTP\/1\.1 200/);

    const span = await eventually('the server span', () => serverSpanFor('/things/9'));
    assert.equal(span.attributes['server.address'], '127.0.0.1');
    assert.equal(span.attributes['server.port'], undefined);
  });

  it('marks a 5xx answer as an error', async () => {
    assert.equal((await fetch(`${base}/fails`)).status, 503);

    const span = await eventually('the server span', () => serverSpanFor('/fails'));
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes['error.type'], '503');
    assert.equal(span.attributes['http.response.status_code'], 503);
  });

  it('handles a request with a body in its span, once the body is read', async () => {
    const response = await fetch(`${base}/echo-span`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ big: 'x'.repeat(200_000) }),
    });
    const { spanId, length } = (await response.json()) as { spanId?: string; length: number };
    assert.equal(length, 200_010);

    const span = await eventually('the server span', () => serverSpanFor('/echo-span'));
    assert.equal(spanId, span.spanContext().spanId);
  });

  it("writes the server span's trace id on the request's log line", async () => {
    await fetch(`${base}/things/8`);
    const span = await eventually('the server span', () => serverSpanFor('/things/8'));

    const line = await eventually('the log line', () =>
      logLines.find((l) => (l['req'] as { url?: string } | undefined)?.url === '/things/8'),
    );
    assert.equal(line['trace_id'], span.spanContext().traceId);
    assert.equal(line['span_id'], span.spanContext().spanId);
  });

  it('names the service and its version on every span', async () => {
    await fetch(`${base}/things/5`);
    const span = await eventually('the server span', () => serverSpanFor('/things/5'));

    assert.equal(span.resource.attributes['service.name'], 'orders');
    assert.equal(span.resource.attributes['service.version'], '1.2.3');
  });
});
