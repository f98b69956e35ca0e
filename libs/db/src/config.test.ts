import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { databaseConfigShape } from './config.ts';

const schema = z.object(databaseConfigShape);

const failedKeys = (input: Record<string, string>) => {
  const result = schema.safeParse(input);
  assert.equal(result.success, false, 'the input is rejected');
  return result.error.issues.map((issue) => issue.path.join('.'));
};

describe('databaseConfigShape', () => {
  it('fills every other key with its default when only DATABASE_URL is given', () => {
    const config = schema.parse({ DATABASE_URL: 'postgres://app@db.internal:5432/users' });

    assert.deepEqual(config, {
      DATABASE_URL: 'postgres://app@db.internal:5432/users',
      DB_POOL_MAX: 10,
      DB_CONNECTION_TIMEOUT_MS: 3000,
      DB_STATEMENT_TIMEOUT_MS: 5000,
      DB_IDLE_TIMEOUT_MS: 30_000,
      MIGRATE_ON_START: false,
    });
  });

  it('accepts the postgresql:// spelling of the URL', () => {
    const config = schema.parse({ DATABASE_URL: 'postgresql://app@db.internal/users' });

    assert.equal(config.DATABASE_URL, 'postgresql://app@db.internal/users');
  });

  it('rejects a URL that is not PostgreSQL', () => {
    assert.deepEqual(failedKeys({ DATABASE_URL: 'mysql://app@db.internal/users' }), [
      'DATABASE_URL',
    ]);
  });

  it('requires DATABASE_URL', () => {
    assert.deepEqual(failedKeys({}), ['DATABASE_URL']);
  });

  it('reads numbers and booleans from environment strings', () => {
    const config = schema.parse({
      DATABASE_URL: 'postgres://db/users',
      DB_POOL_MAX: '25',
      DB_STATEMENT_TIMEOUT_MS: '750',
      MIGRATE_ON_START: 'true',
    });

    assert.equal(config.DB_POOL_MAX, 25);
    assert.equal(config.DB_STATEMENT_TIMEOUT_MS, 750);
    assert.equal(config.MIGRATE_ON_START, true);
  });

  it('reports every out-of-range key at once', () => {
    const keys = failedKeys({
      DATABASE_URL: 'postgres://db/users',
      DB_POOL_MAX: '0',
      DB_CONNECTION_TIMEOUT_MS: '0',
      DB_STATEMENT_TIMEOUT_MS: 'soon',
    });

    assert.deepEqual(keys.sort(), [
      'DB_CONNECTION_TIMEOUT_MS',
      'DB_POOL_MAX',
      'DB_STATEMENT_TIMEOUT_MS',
    ]);
  });
});
