import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { serverSpans } from './server-spans.ts';
import { shutdownTracing, startTracing, tracingEnabled } from './tracing.ts';

// startTracing keeps one result per process, so this scenario has a file of its own.
describe('startTracing with no endpoint and no span processors', () => {
  it('lets shutdownTracing resolve before anything was started', async () => {
    await shutdownTracing();
  });

  it('is disabled, warns nothing, and records no spans', () => {
    const warnings: string[] = [];

    const tracing = startTracing({ serviceName: 'svc', env: {}, warn: (m) => warnings.push(m) });

    assert.equal(tracing.enabled, false);
    assert.equal(tracingEnabled(), false);
    assert.deepEqual(warnings, []);
    const span = trace.getTracer('test').startSpan('nothing');
    assert.equal(span.isRecording(), false);
    span.end();
  });

  it('leaves a request listener as it is: no span, no cost', () => {
    const listener = () => undefined;
    assert.equal(serverSpans(listener), listener);
  });

  it('returns the first result to later calls in the same process', () => {
    const first = startTracing({ serviceName: 'svc', env: {} });
    const exporter = new InMemorySpanExporter();

    const later = startTracing({
      serviceName: 'other',
      env: {},
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });

    assert.equal(later, first);
    assert.equal(later.enabled, false);
  });
});
