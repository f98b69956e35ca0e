import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createIsoTime } from './iso-time.ts';

describe('createIsoTime', () => {
  it("writes the same text as Date's toISOString, milliseconds padded", () => {
    const instants = [
      Date.UTC(2026, 10, 30, 6, 4, 13, 0),
      Date.UTC(2026, 10, 30, 6, 4, 13, 7),
      Date.UTC(2026, 10, 30, 6, 4, 13, 42),
      Date.UTC(2026, 10, 30, 6, 4, 13, 999),
      Date.UTC(2026, 11, 31, 23, 59, 59, 999),
      Date.UTC(2027, 0, 1, 0, 0, 0, 1),
      0,
    ];
    let at = 0;
    const isoTime = createIsoTime(() => at);

    for (const instant of instants) {
      at = instant;
      assert.equal(isoTime(), `,"time":"${new Date(instant).toISOString()}"`);
    }
  });

  it('follows the clock across seconds, forwards and backwards', () => {
    let at = Date.UTC(2026, 0, 1, 0, 0, 1, 500);
    const isoTime = createIsoTime(() => at);
    isoTime();

    at -= 1000;
    assert.equal(isoTime(), ',"time":"2026-01-01T00:00:00.500Z"');
    at += 2001;
    assert.equal(isoTime(), ',"time":"2026-01-01T00:00:02.501Z"');
  });
});
