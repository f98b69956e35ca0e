import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { redisConfigShape } from './config.ts';

const schema = z.object(redisConfigShape);

const failedKeys = (input: Record<string, string>) => {
  const result = schema.safeParse(input);
  assert.equal(result.success, false, 'the input is rejected');
  return result.error.issues.map((issue) => issue.path.join('.'));
};

describe('redisConfigShape', () => {
  it('fills the timeouts with their defaults when only REDIS_URL is given', () => {
    const config = schema.parse({ REDIS_URL: 'redis://cache.internal:6379/0' });

    assert.deepEqual(config, {
      REDIS_URL: 'redis://cache.internal:6379/0',
      REDIS_COMMAND_TIMEOUT_MS: 500,
      REDIS_CONNECT_TIMEOUT_MS: 2000,
    });
  });

  it('accepts TLS (rediss://) URLs', () => {
    assert.equal(
      schema.parse({ REDIS_URL: 'rediss://cache.internal:6380' }).REDIS_URL,
      'rediss://cache.internal:6380',
    );
  });

  it('rejects a URL that is not Redis', () => {
    assert.deepEqual(failedKeys({ REDIS_URL: 'http://cache.internal' }), ['REDIS_URL']);
  });

  it('reports every bad timeout at once', () => {
    const keys = failedKeys({
      REDIS_URL: 'redis://cache.internal',
      REDIS_COMMAND_TIMEOUT_MS: '0',
      REDIS_CONNECT_TIMEOUT_MS: 'later',
    });

    assert.deepEqual(keys.sort(), ['REDIS_COMMAND_TIMEOUT_MS', 'REDIS_CONNECT_TIMEOUT_MS']);
  });
});
