import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  figuresOf,
  histogramQuantile,
  increase,
  judge,
  stepVerdict,
  type Sample,
} from './analysis.ts';
import type { Figures } from './ledger.ts';

const thresholds = { minRequests: 20, minSuccessRate: 0.99, maxP99Seconds: 0.5 };
const buckets = (...pairs: [number, number][]) => ({
  buckets: pairs.map(([le, count]) => ({ le, count })),
});

describe('histogramQuantile (as PromQL computes it)', () => {
  it('interpolates inside the bucket the rank falls in', () => {
    const h = buckets([0.1, 50], [0.5, 90], [1, 100], [Infinity, 100]);
    assert.equal(histogramQuantile(0.5, h), 0.1);
    assert.ok(Math.abs((histogramQuantile(0.99, h) ?? 0) - 0.95) < 1e-9);
    assert.ok(Math.abs((histogramQuantile(0.25, h) ?? 0) - 0.05) < 1e-9);
  });

  it('answers the highest finite bound when the rank falls in +Inf, and nothing when empty', () => {
    assert.equal(histogramQuantile(0.99, buckets([0.1, 1], [1, 2], [Infinity, 10])), 1);
    assert.equal(histogramQuantile(0.99, buckets([0.1, 0], [Infinity, 0])), undefined);
  });
});

describe('figures of a window', () => {
  const sample = (ok: number, failed: number, fast: number, slow: number): Sample => ({
    statuses: { '200': ok, '503': failed },
    latency: buckets([0.05, fast], [1, fast + slow], [Infinity, fast + slow]),
  });

  it('counts what happened between two scrapes: requests, 5xx share, p99', () => {
    const figures = figuresOf(increase(sample(100, 1, 100, 1), sample(299, 2, 195, 6)));
    assert.equal(figures.requests, 200);
    assert.equal(figures.successRate, 199 / 200);
    // 95 answers under 50 ms and 5 under 1 s: the 99th falls 4/5 into the second bucket.
    assert.ok(Math.abs((figures.p99Seconds ?? 0) - (0.05 + 0.95 * (4 / 5))) < 1e-9);
  });

  it('has no rate and no p99 without requests', () => {
    const same = sample(10, 0, 10, 0);
    assert.deepEqual(figuresOf(increase(same, same)), {
      requests: 0,
      successRate: undefined,
      p99Seconds: undefined,
    });
  });
});

describe('judge', () => {
  it('is inconclusive under the minimum requests, however good they look', () => {
    const f = judge({ weight: 10, requests: 19, successRate: 1, p99Seconds: 0.01 }, thresholds);
    assert.equal(f.verdict, 'inconclusive');
    assert.match(f.reason, /19 requests < 20/);
  });

  it('fails a low success rate or a slow p99, naming each', () => {
    assert.equal(
      judge({ weight: 10, requests: 100, successRate: 0.98, p99Seconds: 0.1 }, thresholds).reason,
      'success 98.0% < 99.0%',
    );
    assert.equal(
      judge({ weight: 10, requests: 100, successRate: 1, p99Seconds: 0.7 }, thresholds).reason,
      'p99 700 ms > 500 ms',
    );
    assert.equal(
      judge({ weight: 10, requests: 100, successRate: 0.5, p99Seconds: 0.7 }, thresholds).verdict,
      'failed',
    );
  });

  it('passes at the thresholds', () => {
    assert.equal(
      judge({ weight: 10, requests: 100, successRate: 0.99, p99Seconds: 0.5 }, thresholds).verdict,
      'passed',
    );
  });
});

describe('stepVerdict', () => {
  const m = (verdict: Figures['verdict']): Figures => ({
    weight: 10,
    requests: 0,
    successRate: undefined,
    p99Seconds: undefined,
    verdict,
    reason: '',
  });
  const limits = { inconclusiveLimit: 2, failureLimit: 0 };

  it('passes on a pass, fails a failure past the limit, measures again otherwise', () => {
    assert.equal(stepVerdict([m('passed')], 0, limits), 'passed');
    assert.equal(stepVerdict([m('failed')], 1, limits), 'failed');
    assert.equal(stepVerdict([m('failed')], 1, { ...limits, failureLimit: 1 }), 'again');
    assert.equal(stepVerdict([m('inconclusive')], 0, limits), 'again');
  });

  it('fails after more inconclusive measurements in a row than allowed, never passes on them', () => {
    assert.equal(stepVerdict([m('inconclusive'), m('inconclusive')], 0, limits), 'again');
    assert.equal(
      stepVerdict([m('inconclusive'), m('inconclusive'), m('inconclusive')], 0, limits),
      'failed',
    );
    assert.equal(
      stepVerdict([m('inconclusive'), m('failed'), m('inconclusive')], 1, {
        ...limits,
        failureLimit: 1,
      }),
      'again',
    );
  });
});
