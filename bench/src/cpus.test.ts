import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowedCpus, cpuPlan, pinned } from './cpus.ts';

describe('allowedCpus', () => {
  it('reads ranges and single CPUs from Cpus_allowed_list', () => {
    assert.deepEqual(allowedCpus('Name:\tnode\nCpus_allowed_list:\t0,2-4\n'), [0, 2, 3, 4]);
  });

  it('is empty when the line is missing', () => {
    assert.deepEqual(allowedCpus('Name:\tnode\n'), []);
  });
});

describe('cpuPlan', () => {
  it('puts the load on the first CPU and the servers on the last', () => {
    assert.deepEqual(cpuPlan([2, 3, 5]), { load: 2, servers: 5 });
  });

  it('pins nothing on one CPU', () => {
    assert.deepEqual(cpuPlan([0]), {});
  });
});

describe('pinned', () => {
  it('runs the command through taskset on the CPU', () => {
    assert.deepEqual(pinned('wrk', ['-t1'], 1), {
      command: 'taskset',
      args: ['-c', '1', 'wrk', '-t1'],
    });
  });

  it('runs the command as it is without a CPU', () => {
    assert.deepEqual(pinned('wrk', ['-t1'], undefined), { command: 'wrk', args: ['-t1'] });
  });
});
