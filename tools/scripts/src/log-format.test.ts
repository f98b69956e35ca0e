import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatLogLine } from './log-format.ts';

describe('formatLogLine', () => {
  it('shows time, level, message and the useful fields of a JSON log line', () => {
    const line = JSON.stringify({
      level: 'info',
      time: '2026-01-02T12:34:56.789Z',
      service: 'user-service',
      msg: 'request completed',
      req: { method: 'GET', url: '/users/me' },
      res: { statusCode: 200 },
      responseTime: 12,
    });
    assert.equal(
      formatLogLine(line),
      '12:34:56 info  request completed method=GET url=/users/me statusCode=200 responseTime=12',
    );
  });

  it('returns other lines unchanged', () => {
    assert.equal(formatLogLine('plain text'), 'plain text');
    assert.equal(formatLogLine('{"no":"msg"}'), '{"no":"msg"}');
    assert.equal(formatLogLine('42'), '42');
  });
});
