import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cpuSeconds, processCpuSeconds, withDescendants } from './cpu-time.ts';

describe('processCpuSeconds', () => {
  it('adds utime and stime, in ticks of 1/100 s, even when the name has spaces', () => {
    const stat = '4242 (node worker 1) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 7';

    assert.equal(processCpuSeconds(stat), 3);
  });

  it('is 0 for a process that is gone', () => {
    assert.equal(processCpuSeconds(undefined), 0);
  });
});

describe('cpuSeconds', () => {
  it('grows while this process works', () => {
    const before = cpuSeconds([process.pid]);
    const until = Date.now() + 150;
    let spin = 0;
    while (Date.now() < until) spin++;

    assert.ok(spin > 0);
    assert.ok(cpuSeconds([process.pid]) > before);
  });

  it('counts this process among its own descendants', () => {
    assert.deepEqual(withDescendants(process.pid).slice(0, 1), [process.pid]);
  });
});
