import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { trace } from '@opentelemetry/api';
import { shutdownTracing, startTracing, type Tracing } from './tracing.ts';

// A stand-in OTLP/HTTP collector that records what is posted to it.
const received: { path: string; body: Buffer }[] = [];
const collector = createServer((req: IncomingMessage, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    received.push({ path: req.url ?? '', body: Buffer.concat(chunks) });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});

let tracing: Tracing;
before(async () => {
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const { port } = collector.address() as AddressInfo;
  // The production path: settings come from the process environment. The base URL has a path
  // without a trailing slash, to check how /v1/traces is joined to it.
  process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = `http://127.0.0.1:${port}/otel`;
  tracing = startTracing({ serviceName: 'exported-service' });
});
after(async () => {
  await shutdownTracing();
  collector.closeAllConnections();
  await new Promise((resolve) => collector.close(resolve));
});

describe('startTracing with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  it('is enabled', () => {
    assert.equal(tracing.enabled, true);
  });

  it('exports spans to <endpoint>/v1/traces, and nothing else, when shut down', async () => {
    trace.getTracer('test').startSpan('exported-span').end();
    // An instrumented call, which would also feed the http metrics instruments.
    await fetch(`http://127.0.0.1:${(collector.address() as AddressInfo).port}/ping`);

    await shutdownTracing();

    const exports = received.filter((r) => r.path.startsWith('/otel/'));
    assert.deepEqual([...new Set(exports.map((r) => r.path))], ['/otel/v1/traces']);
    const body = Buffer.concat(exports.map((r) => r.body)).toString('latin1');
    assert.ok(body.includes('exported-span'), 'the span is in the export');
    assert.ok(body.includes('exported-service'), 'the service name is in the export');
  });
});
