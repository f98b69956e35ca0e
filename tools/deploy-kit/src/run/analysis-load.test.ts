import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_LOAD_RATE, loadRate } from './analysis-load.ts';

describe("loadRate: the kit's own iterations a second during an analysis step", () => {
  // minRequests, window, the step's weight, a fixed rate from the environment -> iterations a second
  const cases: [
    minRequests: number,
    windowMs: number,
    weight: number,
    fixed: number | undefined,
    rate: number,
  ][] = [
    // 2 x 20 requests in 20 s, of which the new version gets its weight.
    [20, 20_000, 10, undefined, 20],
    [20, 20_000, 25, undefined, 8],
    [20, 20_000, 50, undefined, 4],
    [20, 20_000, 100, undefined, 2],
    // A fraction of an iteration a second is rounded up: never fewer requests than asked for.
    [20, 60_000, 50, undefined, 2],
    // Never less than one a second.
    [1, 60_000, 100, undefined, 1],
    // Never more than the bound, whatever the settings ask for.
    [100, 10_000, 10, undefined, MAX_LOAD_RATE],
    [20, 20_000, 0, undefined, MAX_LOAD_RATE],
    // A rate the environment fixes wins, above or below what would be computed.
    [20, 20_000, 10, 5, 5],
    [100, 10_000, 10, 120, 120],
  ];

  for (const [minRequests, windowMs, weight, fixed, rate] of cases) {
    it(`sends ${rate}/s for minRequests ${minRequests}, a ${windowMs / 1000} s window at ${weight}%${fixed === undefined ? '' : `, fixed at ${fixed}/s`}`, () => {
      assert.equal(loadRate({ minRequests }, { weight, windowMs }, fixed), rate);
    });
  }

  it('gives the new version at least twice minRequests a window wherever the bounds allow', () => {
    for (const weight of [1, 5, 10, 25, 50, 75, 100]) {
      const rate = loadRate({ minRequests: 20 }, { weight, windowMs: 20_000 });
      const atTheNewVersion = rate * 20 * (weight / 100);
      assert.ok(
        rate === MAX_LOAD_RATE || atTheNewVersion >= 40,
        `${weight}%: ${rate}/s, ${atTheNewVersion}`,
      );
    }
  });
});
