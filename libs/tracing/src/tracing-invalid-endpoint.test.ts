import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startTracing } from './tracing.ts';

// startTracing keeps one result per process, so this scenario has a file of its own.
describe('startTracing with an OTEL_EXPORTER_OTLP_ENDPOINT that is not a URL', () => {
  const warnings: string[] = [];
  const tracing = startTracing({
    serviceName: 'svc',
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' },
    warn: (message) => warnings.push(message),
  });

  it('warns once through the injected warn, naming the setting', () => {
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0]!,
      /^tracing disabled: invalid setting\(s\) OTEL_EXPORTER_OTLP_ENDPOINT:/,
    );
  });

  it('returns a disabled tracing whose shutdown resolves', async () => {
    assert.equal(tracing.enabled, false);
    await tracing.shutdown();
  });
});
