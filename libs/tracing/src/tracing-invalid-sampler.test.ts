import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { startTracing } from './tracing.ts';

// startTracing keeps one result per process, so this scenario has a file of its own.
describe('startTracing with a sampler it does not know and a ratio above 1', () => {
  const warnings: string[] = [];
  const tracing = startTracing({
    serviceName: 'svc',
    env: { OTEL_TRACES_SAMPLER: 'sometimes', OTEL_TRACES_SAMPLER_ARG: '1.5' },
    spanProcessors: [new SimpleSpanProcessor({ exporter: new InMemorySpanExporter() })],
    warn: (message) => warnings.push(message),
  });

  it('names both settings in one warning and falls back to a no-op', () => {
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG/);
    assert.equal(tracing.enabled, false);
  });
});
