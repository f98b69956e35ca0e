import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  resolveInfrastructure,
  startTestInfrastructure,
  waitFor,
  type Infrastructure,
  type TestInfrastructure,
} from '@flotilla/testing';
import {
  PG_ERROR,
  createPool,
  databaseCheck,
  isPgError,
  withTransaction,
  type Pool,
  type PoolConfig,
} from '../src/index.ts';

/** SQLSTATE query_canceled: what a statement cut off by statement_timeout fails with. */
const QUERY_CANCELED = '57014';
/** SQLSTATE admin_shutdown: what a terminated backend's last query fails with. */
const ADMIN_SHUTDOWN = '57P01';

let infra: TestInfrastructure;
const pools: Pool[] = [];

before(async () => {
  infra = await startTestInfrastructure();
});
after(async () => {
  // Pools of failed tests are ended here too, so no connection outlives the suite.
  for (const pool of pools) if (!pool.ended) await pool.end();
  await infra.stop();
});

function poolConfig(url: string, overrides: Partial<PoolConfig> = {}): PoolConfig {
  return {
    url,
    applicationName: 'db-pool-test',
    max: 5,
    connectionTimeoutMs: 1000,
    statementTimeoutMs: 10_000,
    idleTimeoutMs: 10_000,
    ...overrides,
  };
}

function openPool(
  overrides: Partial<PoolConfig> = {},
  onError: (err: Error) => void = () => undefined,
): Pool {
  const pool = createPool(poolConfig(infra.databaseUrl, overrides), onError);
  pools.push(pool);
  return pool;
}

async function backendPid(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return rows[0]!.pid;
}

describe('createPool', () => {
  it('cancels a statement that runs longer than statementTimeoutMs with SQLSTATE 57014', async () => {
    const pool = openPool({ statementTimeoutMs: 100 });

    const error = await pool.query('SELECT pg_sleep(5)').catch((err: unknown) => err);

    assert.equal(isPgError(error, QUERY_CANCELED), true, `got ${String(error)}`);
  });

  it('lets a statement shorter than statementTimeoutMs finish', async () => {
    const pool = openPool({ statementTimeoutMs: 5000 });

    const { rowCount } = await pool.query('SELECT pg_sleep(0.05)');

    assert.equal(rowCount, 1);
  });

  it('rejects a connect after connectionTimeoutMs when every connection is held', async () => {
    const pool = openPool({ max: 1, connectionTimeoutMs: 200 });
    const held = await pool.connect();
    try {
      const started = performance.now();

      await assert.rejects(pool.connect(), /timeout/i);

      // A lower bound only: the wait limit was honoured, not skipped.
      assert.ok(performance.now() - started >= 180, 'waited for a connection first');
    } finally {
      held.release();
    }
  });

  it('hands a connection to a waiting caller once the holder releases it', async () => {
    const pool = openPool({ max: 1, connectionTimeoutMs: 2000 });
    const held = await pool.connect();
    const waiting = pool.connect();

    held.release();
    const client = await waiting;

    client.release();
    assert.equal(pool.totalCount, 1);
  });

  it('names the application in pg_stat_activity', async () => {
    const pool = openPool({ applicationName: 'named-by-the-pool' });

    const { rows } = await pool.query<{ name: string }>(
      'SELECT application_name AS name FROM pg_stat_activity WHERE pid = pg_backend_pid()',
    );

    assert.equal(rows[0]?.name, 'named-by-the-pool');
  });
});

describe('createPool when the server goes away', () => {
  let own: Infrastructure;
  let stopped = false;
  const stopOwn = async () => {
    if (!stopped) await own.stop();
    stopped = true;
  };
  before(async () => {
    // A PostgreSQL of this suite's own, so it can be stopped; REDIS_URL is set only so that no
    // Redis is started (nothing here talks to it).
    own = await resolveInfrastructure({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });
  });
  after(stopOwn);

  it('passes errors of idle clients to onError and its readiness check rejects', async () => {
    const errors: Error[] = [];
    const pool = createPool(poolConfig(own.databaseUrl), (err) => errors.push(err));
    pools.push(pool);
    const check = databaseCheck(pool);
    await check.check();
    assert.equal(pool.idleCount, 1, 'an idle client is connected');

    await stopOwn();

    await waitFor(
      'onError to be called',
      () => (errors.length > 0 ? Promise.resolve() : Promise.reject(new Error('no error yet'))),
      { timeoutMs: 5000, intervalMs: 20 },
    );
    assert.ok(errors[0] instanceof Error);
    assert.equal(check.name, 'postgres');
    await assert.rejects(check.check());
  });
});

describe('withTransaction', () => {
  let pool: Pool;
  before(async () => {
    // One connection: a client that is not returned makes the next query time out.
    pool = openPool({ max: 1, connectionTimeoutMs: 500 });
    await pool.query('CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)');
  });

  it('commits when the work resolves and returns its result', async () => {
    const result = await withTransaction(pool, async (client) => {
      await client.query("INSERT INTO items VALUES (1, 'one')");
      return 'done';
    });

    assert.equal(result, 'done');
    const { rows } = await pool.query<{ name: string }>('SELECT name FROM items WHERE id = 1');
    assert.deepEqual(rows, [{ name: 'one' }]);
  });

  it('rolls back when the work throws and rethrows the same error', async () => {
    const failure = new Error('changed my mind');

    const error = await withTransaction(pool, async (client) => {
      await client.query("INSERT INTO items VALUES (2, 'two')");
      throw failure;
    }).catch((err: unknown) => err);

    assert.equal(error, failure);
    const { rowCount } = await pool.query('SELECT 1 FROM items WHERE id = 2');
    assert.equal(rowCount, 0);
  });

  it('returns the same connection to the pool after a commit', async () => {
    let pidInside = 0;

    await withTransaction(pool, async (client) => {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      pidInside = rows[0]!.pid;
    });

    assert.equal(await backendPid(pool), pidInside);
  });

  it('returns the same connection to the pool after a rollback', async () => {
    let pidInside = 0;

    await assert.rejects(
      withTransaction(pool, async (client) => {
        const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        pidInside = rows[0]!.pid;
        throw new Error('roll back');
      }),
      /roll back/,
    );

    assert.equal(await backendPid(pool), pidInside);
    // Only the first statement of a transaction sees its own start time as now().
    const { rows } = await pool.query<{ fresh: boolean }>(
      'SELECT now() = statement_timestamp() AS fresh',
    );
    assert.equal(rows[0]?.fresh, true, 'the connection is not left inside a transaction');
  });

  it('destroys a connection that broke mid-transaction instead of returning it, without crashing', async () => {
    let pidInside = 0;

    const error = await withTransaction(pool, async (client) => {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      pidInside = rows[0]!.pid;
      await client.query('SELECT pg_terminate_backend(pg_backend_pid())');
    }).catch((err: unknown) => err);

    assert.equal(isPgError(error, ADMIN_SHUTDOWN), true, `got ${String(error)}`);
    const pidAfter = await backendPid(pool);
    assert.notEqual(pidAfter, pidInside, 'a new connection replaced the broken one');
    assert.equal(pool.totalCount, 1);
  });
});

describe('isPgError', () => {
  let pool: Pool;
  before(async () => {
    pool = openPool();
    await pool.query(
      'CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL CONSTRAINT accounts_email_key UNIQUE)',
    );
    await pool.query("INSERT INTO accounts VALUES (1, 'a@example.com')");
  });

  const duplicateEmail = () =>
    pool.query("INSERT INTO accounts VALUES (2, 'a@example.com')").catch((err: unknown) => err);

  it('recognises a unique violation by its code', async () => {
    const error = await duplicateEmail();

    assert.equal(isPgError(error, PG_ERROR.UNIQUE_VIOLATION), true);
    assert.equal(isPgError(error, PG_ERROR.FOREIGN_KEY_VIOLATION), false);
  });

  it('recognises a unique violation on the named constraint only', async () => {
    const error = await duplicateEmail();

    assert.equal(isPgError(error, PG_ERROR.UNIQUE_VIOLATION, 'accounts_email_key'), true);
    assert.equal(isPgError(error, PG_ERROR.UNIQUE_VIOLATION, 'accounts_pkey'), false);
  });

  it('tells a primary key violation from a unique constraint violation', async () => {
    const error = await pool
      .query("INSERT INTO accounts VALUES (1, 'b@example.com')")
      .catch((err: unknown) => err);

    assert.equal(isPgError(error, PG_ERROR.UNIQUE_VIOLATION, 'accounts_pkey'), true);
    assert.equal(isPgError(error, PG_ERROR.UNIQUE_VIOLATION, 'accounts_email_key'), false);
  });

  it('is false for values that are not database errors', () => {
    for (const value of [new Error('23505'), null, undefined, '23505', 23505, {}]) {
      assert.equal(isPgError(value, PG_ERROR.UNIQUE_VIOLATION), false, JSON.stringify(value));
    }
  });
});

describe('databaseCheck', () => {
  it('is named postgres and resolves while the server answers', async () => {
    const check = databaseCheck(openPool());

    const result = await check.check();

    assert.equal(check.name, 'postgres');
    assert.deepEqual(result.rows, [{ '?column?': 1 }]);
  });
});
