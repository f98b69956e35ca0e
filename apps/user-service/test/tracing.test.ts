import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { serverSpans, startTracing } from '@flotilla/tracing';

// The SDK must patch pg and ioredis before they are first imported, as instrumentation.ts does
// in production; hence the dynamic imports below. The app is served as runService serves it:
// its request listener wrapped in server spans.
const exporter = new InMemorySpanExporter();
const tracing = startTracing({
  serviceName: 'user-service',
  spanProcessors: [new SimpleSpanProcessor({ exporter })],
  env: {},
});
const { default: request } = await import('supertest');
const { buildUser, startService } = await import('./helpers.ts');

let service: Awaited<ReturnType<typeof startService>>;

before(async () => {
  service = await startService();
});
after(async () => {
  await service.stop();
  await tracing.shutdown();
});

describe('tracing', () => {
  it('puts a request and the SQL it runs in one trace, continuing the caller trace', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    exporter.reset();

    await request(serverSpans(service.app))
      .post('/users')
      .set('traceparent', `00-${traceId}-00f067aa0ba902b7-01`)
      .send(buildUser())
      .expect(201);

    const spans = exporter.getFinishedSpans();
    const server = spans.find((s) => s.kind === SpanKind.SERVER);
    const insert = spans.find(
      (s) =>
        s.name.startsWith('pg.query') &&
        String(s.attributes['db.statement'] ?? s.attributes['db.query.text']).includes(
          'INSERT INTO users',
        ),
    );
    assert.ok(server, `a server span among ${spans.map((s) => s.name).join(', ')}`);
    assert.ok(insert, `an INSERT span among ${spans.map((s) => s.name).join(', ')}`);
    assert.equal(server.spanContext().traceId, traceId);
    assert.equal(insert.spanContext().traceId, traceId);
  });

  it('writes the trace id into the response log context', async () => {
    exporter.reset();
    const res = await request(serverSpans(service.app))
      .post('/users')
      .send(buildUser())
      .expect(201);
    const server = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER);
    assert.ok(server);
    assert.equal(typeof res.headers['x-request-id'], 'string');
    assert.equal(tracing.enabled, true);
  });
});
