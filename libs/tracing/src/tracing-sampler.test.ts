import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { rawGet } from './raw-get.ts';
import { serverSpans } from './server-spans.ts';
import { samplerOf, shutdownTracing, startTracing } from './tracing.ts';

// startTracing keeps one result per process, so this scenario has a file of its own: no trace
// starts here (ratio 0), but a caller's sampled trace is followed.
const exporter = new InMemorySpanExporter();
const tracing = startTracing({
  serviceName: 'svc',
  env: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' },
  spanProcessors: [new SimpleSpanProcessor({ exporter })],
});
const http = await import('node:http');

let server: ReturnType<typeof http.createServer>;
let base: string;
before(async () => {
  server = http.createServer(serverSpans((_req, res) => res.end('ok')));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await shutdownTracing();
});

describe('OTEL_TRACES_SAMPLER=parentbased_traceidratio, OTEL_TRACES_SAMPLER_ARG=0', () => {
  it('is enabled', () => {
    assert.equal(tracing.enabled, true);
  });

  it("starts no trace of its own, and follows a caller's sampled one", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    assert.match(await rawGet(base, '/unsampled'), /^HTTP\/1.1 200/);
    assert.match(
      await rawGet(base, '/followed', { traceparent: `00-${traceId}-00f067aa0ba902b7-01` }),
      /^HTTP\/1.1 200/,
    );
    assert.match(
      await rawGet(base, '/declined', { traceparent: `00-${'1'.repeat(32)}-00f067aa0ba902b7-00` }),
      /^HTTP\/1.1 200/,
    );

    for (let waited = 0; exporter.getFinishedSpans().length === 0 && waited < 5000; waited += 10)
      await sleep(10);
    await sleep(50);
    const spans = exporter.getFinishedSpans();
    assert.deepEqual(
      spans.map((s) => [s.attributes['url.path'], s.spanContext().traceId]),
      [['/followed', traceId]],
    );
  });
});

describe('samplerOf', () => {
  const of = (sampler: string, arg?: number) =>
    samplerOf({
      OTEL_TRACES_SAMPLER: sampler as Parameters<typeof samplerOf>[0]['OTEL_TRACES_SAMPLER'],
      OTEL_TRACES_SAMPLER_ARG: arg,
    }).toString();

  it('builds the sampler each OpenTelemetry name stands for', () => {
    assert.equal(of('always_on'), 'AlwaysOnSampler');
    assert.equal(of('always_off'), 'AlwaysOffSampler');
    assert.equal(of('traceidratio', 0.25), 'TraceIdRatioBased{0.25}');
    assert.match(of('parentbased_always_on'), /^ParentBased\{root=AlwaysOnSampler,/);
    assert.match(of('parentbased_always_off'), /^ParentBased\{root=AlwaysOffSampler,/);
    assert.match(
      of('parentbased_traceidratio', 0.1),
      /^ParentBased\{root=TraceIdRatioBased\{0.1\},/,
    );
  });

  it('keeps every trace when a ratio sampler has no ratio', () => {
    assert.equal(of('traceidratio'), 'TraceIdRatioBased{1}');
  });
});
