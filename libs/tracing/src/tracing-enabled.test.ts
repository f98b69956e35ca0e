import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { startTracing } from './tracing.ts';

const exporter = new InMemorySpanExporter();
const tracing = startTracing({
  serviceName: 'svc',
  env: {},
  spanProcessors: [new SimpleSpanProcessor({ exporter })],
});
// Instrumented modules must load after the SDK, as instrumentation.ts arranges with --import.
const { default: express } = await import('express');

describe('startTracing with span processors', () => {
  it('traces an outgoing fetch and the request it serves as one trace, and skips probes', async () => {
    const app = express();
    app.get('/things/:id', (_req, res) => res.json({}));
    app.get('/health', (_req, res) => res.json({}));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await fetch(`${base}/things/1`);
      await fetch(`${base}/health`);

      const spans = exporter.getFinishedSpans();
      const servers = spans.filter((s) => s.kind === SpanKind.SERVER);
      const clients = spans.filter((s) => s.kind === SpanKind.CLIENT);
      assert.equal(tracing.enabled, true);
      assert.equal(servers.length, 1, `server spans: ${servers.map((s) => s.name).join(', ')}`);
      assert.equal(servers[0]?.name, 'GET /things/:id');
      const client = clients.find(
        (c) => c.spanContext().traceId === servers[0]?.spanContext().traceId,
      );
      assert.ok(client, 'the fetch span and the server span share a trace');
      assert.equal(servers[0]?.parentSpanContext?.spanId, client.spanContext().spanId);
    } finally {
      server.closeAllConnections();
      server.close();
      await tracing.shutdown();
    }
  });
});
