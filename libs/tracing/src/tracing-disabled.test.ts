import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startTracing } from './tracing.ts';

describe('startTracing without an exporter', () => {
  it('is disabled when no endpoint and no span processors are given', () => {
    const warnings: string[] = [];
    const tracing = startTracing({ serviceName: 'svc', env: {}, warn: (m) => warnings.push(m) });
    assert.equal(tracing.enabled, false);
    assert.deepEqual(warnings, []);
  });
});
