import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { until, waitFor } from './wait-for.ts';

/** A probe that fails `failures` times (with numbered errors), then resolves with `value`. */
function flakyProbe<T>(failures: number, value: T) {
  const probe = {
    calls: 0,
    run: () => {
      probe.calls++;
      return probe.calls <= failures
        ? Promise.reject(new Error(`attempt ${probe.calls} failed`))
        : Promise.resolve(value);
    },
  };
  return probe;
}

describe('waitFor', () => {
  it('retries a failing probe until it succeeds and returns its value', async () => {
    const probe = flakyProbe(2, 'ready');

    const value = await waitFor('the probe', probe.run, { timeoutMs: 5000, intervalMs: 1 });

    assert.equal(value, 'ready');
    assert.equal(probe.calls, 3);
  });

  it('calls a probe that succeeds at once only once', async () => {
    const probe = flakyProbe(0, 42);

    assert.equal(await waitFor('the probe', probe.run), 42);
    assert.equal(probe.calls, 1);
  });

  it('throws after the timeout, naming what it waited for, with the last error as cause', async () => {
    const probe = flakyProbe(Number.POSITIVE_INFINITY, 'never');

    const error = await waitFor('the database', probe.run, { timeoutMs: 50, intervalMs: 5 }).catch(
      (err: unknown) => err,
    );

    assert.ok(error instanceof Error, `got ${String(error)}`);
    assert.equal(error.message, 'the database did not become ready within 50 ms');
    assert.ok(probe.calls > 1, 'it retried before giving up');
    assert.ok(error.cause instanceof Error);
    assert.equal(error.cause.message, `attempt ${probe.calls} failed`);
  });
});

describe('until', () => {
  it('polls until the probe returns a value, and returns it', async () => {
    let calls = 0;
    const value = await until(
      'three calls',
      () => Promise.resolve(++calls < 3 ? undefined : calls),
      {
        timeoutMs: 5000,
        intervalMs: 1,
      },
    );
    assert.equal(value, 3);
  });

  it('gives up after the timeout, naming what it waited for', async () => {
    await assert.rejects(
      until('a value that never comes', () => Promise.resolve(undefined), {
        timeoutMs: 20,
        intervalMs: 5,
      }),
      /a value that never comes did not become ready within 20 ms/,
    );
  });
});
