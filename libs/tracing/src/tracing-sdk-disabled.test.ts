import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { startTracing } from './tracing.ts';

// startTracing keeps one result per process, so this scenario has a file of its own.
describe('startTracing with OTEL_SDK_DISABLED=true', () => {
  const exporter = new InMemorySpanExporter();
  const warnings: string[] = [];
  const tracing = startTracing({
    serviceName: 'svc',
    env: { OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' },
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
    warn: (m) => warnings.push(m),
  });

  it('is disabled without a warning even when an exporter is configured', () => {
    assert.equal(tracing.enabled, false);
    assert.deepEqual(warnings, []);
  });

  it('records no spans', () => {
    trace.getTracer('test').startSpan('ignored').end();

    assert.deepEqual(exporter.getFinishedSpans(), []);
  });
});
