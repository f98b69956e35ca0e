import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatLive, formatReport, formatStart, type Report } from './report.ts';

function buildReport(overrides: Partial<Report> = {}): Report {
  return {
    runId: 'r1',
    target: 'http://127.0.0.1:8080',
    settings: {
      rate: 20,
      durationMs: 30_000,
      mix: { visa: 90, declined: 10 },
      users: 5,
      concurrency: 50,
      timeoutMs: 10_000,
      minSuccess: 99,
    },
    usersReady: 5,
    elapsedMs: 30_012.5,
    aborted: false,
    requests: {
      scheduled: 600,
      started: 600,
      dropped: 0,
      completed: 600,
      succeeded: 599,
      failed: 1,
    },
    achievedRate: 19.99,
    successPercent: (599 / 600) * 100,
    passed: true,
    latencyMs: { p50: 12.34, p90: 20.1, p99: 45.678, max: 120.4 },
    steps: {
      register: {
        count: 5,
        succeeded: 5,
        failed: 0,
        statusCodes: { '201': 5 },
        latencyMs: { p50: 80.1, p90: 90, p99: 90.3, max: 90.3 },
      },
      visa: {
        count: 540,
        succeeded: 539,
        failed: 1,
        statusCodes: { '201': 539, '500': 1 },
        latencyMs: { p50: 12.3, p90: 20, p99: 45.6, max: 120.4 },
      },
    },
    statusCodes: { '500': 1, '201': 599 },
    failures: { 'visa: 500': 1 },
    ...overrides,
  };
}

describe('formatLive', () => {
  it('shows elapsed seconds, rate, success, p50, p99 and in-flight on one line', () => {
    assert.equal(
      formatLive({
        elapsedMs: 3004,
        rate: 19.96,
        successPercent: 100,
        p50Ms: 12.34,
        p99Ms: 40.06,
        inFlight: 2,
        dropped: 0,
      }),
      '[  3s]    20.0 req/s  ok 100.0%  p50    12.3 ms  p99    40.1 ms  in-flight 2',
    );
  });

  it('shows dashes for an empty second and the dropped arrivals once there are any', () => {
    assert.equal(
      formatLive({
        elapsedMs: 12_000,
        rate: 0,
        successPercent: null,
        p50Ms: null,
        p99Ms: null,
        inFlight: 50,
        dropped: 7,
      }),
      '[ 12s]     0.0 req/s  ok      -  p50       - ms  p99       - ms  in-flight 50  dropped 7',
    );
  });
});

describe('formatStart', () => {
  it('says who runs what against where', () => {
    assert.equal(
      formatStart({
        runId: 'r1',
        target: 'http://127.0.0.1:8080',
        usersReady: 4,
        users: 5,
        rate: 20,
        durationMs: 30_000,
        scheduled: 600,
        mix: { visa: 90, declined: 10 },
      }),
      'loadgen run r1: 4/5 users ready; 20 req/s for 30s (600 iterations), mix visa=90,declined=10, against http://127.0.0.1:8080',
    );
  });
});

describe('formatReport', () => {
  it('prints the verdict, counts, latency, a step table, status codes and failures', () => {
    assert.equal(
      formatReport(buildReport()),
      [
        'loadgen report: run r1 against http://127.0.0.1:8080',
        '  result    PASS  success 99.83% (599 of 600) >= 99%',
        '  requests  600 scheduled, 600 started, 0 dropped, 600 completed in 30.0 s',
        '  rate      20.0 req/s achieved, 20 req/s target',
        '  latency   p50 12.3 ms, p90 20.1 ms, p99 45.7 ms, max 120.4 ms',
        '  users     5 of 5 ready',
        '',
        '  step      count   ok  failed  p50 ms  p99 ms  max ms',
        '  register      5    5       0    80.1    90.3    90.3',
        '  visa        540  539       1    12.3    45.6   120.4',
        '',
        '  status    201 x 599, 500 x 1',
        '  failures  visa: 500 x 1',
      ].join('\n'),
    );
  });

  it('says FAIL with the threshold when success is below it, and marks an early stop', () => {
    const text = formatReport(buildReport({ successPercent: 80, passed: false, aborted: true }));
    assert.match(
      text,
      /^loadgen report: run r1 against http:\/\/127\.0\.0\.1:8080 \(stopped early\)$/m,
    );
    assert.match(text, /^ {2}result {4}FAIL {2}success 80\.00% \(599 of 600\) < 99%$/m);
  });

  it('says FAIL when no load request completed', () => {
    const text = formatReport(
      buildReport({
        successPercent: null,
        passed: false,
        steps: {},
        statusCodes: {},
        failures: {},
        latencyMs: { p50: null, p90: null, p99: null, max: null },
      }),
    );
    assert.match(text, /result {4}FAIL {2}no load request completed/);
    assert.match(text, /latency {3}p50 - ms, p90 - ms, p99 - ms, max - ms/);
    assert.match(text, /status {4}-\n {2}failures {2}-$/);
  });
});
