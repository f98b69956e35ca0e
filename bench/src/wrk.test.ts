import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWrkOutput } from './wrk.ts';

describe('parseWrkOutput', () => {
  it('reads the report line: req/s from the requests and duration, latencies in ms', () => {
    const stdout = [
      'Running 5s test @ http://127.0.0.1:3000/health',
      '  1 threads and 32 connections',
      'WRK_RESULT {"requests":50000,"micros":5000000,"p50":1250,"p99":4000,"errors":3}',
    ].join('\n');

    assert.deepEqual(parseWrkOutput(stdout), {
      requests: 50_000,
      seconds: 5,
      rps: 10_000,
      p50: 1.25,
      p99: 4,
      errors: 3,
    });
  });

  it('fails with the output when there is no report line', () => {
    assert.throws(() => parseWrkOutput('unable to connect'), /unable to connect/);
  });
});
