import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReleaseRecord } from '../core/ledger.ts';
import { deliveryMetrics } from './telemetry.ts';

const record = (
  revision: number,
  result: ReleaseRecord['result'],
  startedAt: string,
  finishedAt: string,
): ReleaseRecord => ({
  service: 'order-service',
  environment: 'dev',
  revision,
  version: 'abc',
  label: `abc-r${revision}`,
  strategy: 'canary',
  platform: 'local',
  previous: undefined,
  startedAt,
  finishedAt,
  durationMs: Date.parse(finishedAt) - Date.parse(startedAt),
  result,
  steps: [],
  by: 'me@here',
});

describe('delivery metrics from the ledger', () => {
  it('counts releases by result and the time from a failed release to the next good one', () => {
    const m = deliveryMetrics([
      record(1, 'released', '2026-11-01T10:00:00Z', '2026-11-01T10:01:00Z'),
      record(2, 'rolled-back', '2026-11-01T11:00:00Z', '2026-11-01T11:02:00Z'),
      record(3, 'aborted', '2026-11-01T11:10:00Z', '2026-11-01T11:11:00Z'),
      record(4, 'released', '2026-11-01T11:20:00Z', '2026-11-01T11:30:00Z'),
      record(5, 'in-progress', '2026-11-01T12:00:00Z', '2026-11-01T12:00:00Z'),
    ]);
    assert.deepEqual(Object.fromEntries(m.byResult), { released: 2, 'rolled-back': 1, aborted: 1 });
    assert.equal(m.restores, 1);
    assert.equal(m.restoreSeconds, 30 * 60, 'from the start of r2 to the end of r4');
    assert.equal(m.lastDurationSeconds, 600);
  });
});
