import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startTracing } from './tracing.ts';

// startTracing keeps one SDK per process; these cases only reach the fallbacks, which create none.
describe('startTracing fallbacks', () => {
  it('warns and stays a no-op when the OTLP endpoint is not a URL', async () => {
    const warnings: string[] = [];
    const tracing = startTracing({
      serviceName: 'svc',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' },
      warn: (message) => warnings.push(message),
    });
    assert.equal(tracing.enabled, false);
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0] ?? '',
      /tracing disabled: invalid setting\(s\) OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
    await tracing.shutdown();
  });
});
