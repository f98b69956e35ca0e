import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '@flotilla/config';
import { configSchema } from './config.ts';

const required = {
  DATABASE_URL: 'postgres://u@localhost:5432/users',
  REDIS_URL: 'redis://localhost:6379',
};

describe('user-service config', () => {
  it('fills defaults around the required keys', () => {
    const config = loadConfig('user-service', configSchema, required);
    assert.equal(config.PORT, 3001);
    assert.equal(config.PASSWORD_ARGON2_MEMORY_KIB, 19_456);
    assert.equal(config.JWT_PRIVATE_KEY, undefined);
    assert.ok(Object.isFrozen(config));
  });

  it('reports every bad key at once', () => {
    const bad = {
      DATABASE_URL: 'mysql://x/y',
      PORT: '70000',
      PASSWORD_ARGON2_PASSES: '1',
      JWT_PRIVATE_KEY: 'nope',
    };
    assert.throws(
      () => loadConfig('user-service', configSchema, bad),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const keys = err.issues.map((issue) => issue.key).sort();
        assert.deepEqual(keys, [
          'DATABASE_URL',
          'JWT_PRIVATE_KEY',
          'PASSWORD_ARGON2_PASSES',
          'PORT',
          'REDIS_URL',
        ]);
        return true;
      },
    );
  });
});
