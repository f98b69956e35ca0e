import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTally, percentile, summarize } from './stats.ts';

const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('percentile', () => {
  it('takes the nearest rank', () => {
    const values = oneTo(100);
    assert.equal(percentile(values, 50), 50);
    assert.equal(percentile(values, 90), 90);
    assert.equal(percentile(values, 99), 99);
    assert.equal(percentile(values, 99.5), 100);
    assert.equal(percentile(values, 100), 100);
    assert.equal(percentile(values, 0), 1);
  });

  it('rounds the rank up on small samples, so p99 of ten values is the largest', () => {
    const values = oneTo(10);
    assert.equal(percentile(values, 50), 5);
    assert.equal(percentile(values, 51), 6);
    assert.equal(percentile(values, 99), 10);
    assert.equal(percentile([42], 50), 42);
  });

  it('has no value for no values and refuses p outside 0..100', () => {
    assert.equal(percentile([], 50), undefined);
    assert.throws(() => percentile([1], 101), RangeError);
    assert.throws(() => percentile([1], -1), RangeError);
    assert.throws(() => percentile([1], Number.NaN), RangeError);
  });
});

describe('summarize', () => {
  it('sorts numerically, not as text', () => {
    const summary = summarize([100, 9, 20, 3, 1000, 7, 8, 50, 2, 1]);
    assert.deepEqual(summary, { count: 10, p50: 8, p90: 100, p99: 1000, max: 1000 });
  });

  it('gives nulls for no values', () => {
    assert.deepEqual(summarize([]), { count: 0, p50: null, p90: null, p99: null, max: null });
  });

  it('leaves its input unsorted', () => {
    const values = [3, 1, 2];
    summarize(values);
    assert.deepEqual(values, [3, 1, 2]);
  });
});

describe('createTally', () => {
  it('keeps setup steps out of the load totals, and failures by step and reason', () => {
    const tally = createTally();
    tally.record({ step: 'login', status: '200', failure: undefined, latencyMs: 30 }, false);
    tally.record({ step: 'visa', status: '201', failure: undefined, latencyMs: 10 }, true);
    tally.record({ step: 'visa', status: '500', failure: '500', latencyMs: 5 }, true);
    tally.record({ step: 'browse', status: 'timeout', failure: 'timeout', latencyMs: 99 }, true);

    assert.equal(tally.load.completed, 3);
    assert.equal(tally.load.succeeded, 1);
    assert.deepEqual(tally.load.latencies, [10, 5, 99]);
    assert.deepEqual(Object.fromEntries(tally.load.statusCodes), {
      '201': 1,
      '500': 1,
      timeout: 1,
    });
    assert.deepEqual(Object.fromEntries(tally.load.failures), {
      'visa: 500': 1,
      'browse: timeout': 1,
    });
    assert.equal(tally.steps.get('login')?.count, 1);
    assert.equal(tally.steps.get('visa')?.succeeded, 1);
  });

  it('hands out the live window once and starts a fresh one', () => {
    const tally = createTally();
    tally.record({ step: 'visa', status: '201', failure: undefined, latencyMs: 10 }, true);
    assert.deepEqual(tally.takeWindow(), { completed: 1, succeeded: 1, latencies: [10] });
    assert.deepEqual(tally.takeWindow(), { completed: 0, succeeded: 0, latencies: [] });
    assert.equal(tally.load.completed, 1);
  });
});
