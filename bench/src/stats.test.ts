import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixed, median, roundOrder } from './stats.ts';

describe('median', () => {
  it('is the middle value of an odd count, whatever the order', () => {
    assert.equal(median([3, 1, 2]), 2);
  });

  it('is the mean of the two middle values of an even count', () => {
    assert.equal(median([4, 1, 3, 2]), 2.5);
  });

  it('is NaN for no values', () => {
    assert.ok(Number.isNaN(median([])));
  });
});

describe('roundOrder', () => {
  it('alternates which side goes first', () => {
    assert.deepEqual([0, 1, 2].map(roundOrder), [
      ['a', 'b'],
      ['b', 'a'],
      ['a', 'b'],
    ]);
  });
});

describe('fixed', () => {
  it('prints a dash for a value that is not finite', () => {
    assert.equal(fixed(Number.NaN, 2), '-');
    assert.equal(fixed(0.756, 2), '0.76');
  });
});
