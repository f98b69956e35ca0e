import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { startTracing } from './tracing.ts';

// startTracing keeps one result per process, so this scenario has a file of its own.
describe('startTracing with several bad settings', () => {
  const warnings: string[] = [];
  const tracing = startTracing({
    serviceName: 'svc',
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'nope', OTEL_SDK_DISABLED: 'maybe' },
    // Even with span processors, a bad setting means no SDK.
    spanProcessors: [new SimpleSpanProcessor({ exporter: new InMemorySpanExporter() })],
    warn: (message) => warnings.push(message),
  });

  it('names every bad setting in one warning', () => {
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SDK_DISABLED/);
  });

  it('falls back to a no-op', () => {
    assert.equal(tracing.enabled, false);
  });
});
