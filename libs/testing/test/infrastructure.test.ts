import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { Redis } from 'ioredis';
import { resolveInfrastructure, type Infrastructure } from '../src/index.ts';

async function query<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** A Redis command on a one-off connection that does not retry, so a dead server fails at once. */
async function redisCommand(url: string, command: string, ...args: string[]): Promise<unknown> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined); // failures surface through connect() below
  try {
    await redis.connect();
    return await redis.call(command, ...args);
  } finally {
    redis.disconnect();
  }
}

/** Resolves with the error code of a TCP connect to the URL's host and port. */
function connectError(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** Resolves once per suite and stops in `after`, also when a test failed or stopped it early. */
function resolvedPerSuite(env: NodeJS.ProcessEnv) {
  const state: { infra?: Infrastructure; stopped: boolean } = { stopped: false };
  const stop = async () => {
    if (state.infra && !state.stopped) await state.infra.stop();
    state.stopped = true;
  };
  before(async () => {
    state.infra = await resolveInfrastructure({ env });
  });
  after(stop);
  return {
    get infra(): Infrastructure {
      assert.ok(state.infra, 'resolved in before()');
      return state.infra;
    },
    stop,
  };
}

describe('resolveInfrastructure with DATABASE_URL and REDIS_URL set', () => {
  // The servers the variables point at: whatever this run was given, or private ones.
  const servers = resolvedPerSuite(process.env);

  it('uses the given URLs and says they came from the environment', async () => {
    const { databaseUrl, redisUrl } = servers.infra;

    const infra = await resolveInfrastructure({
      env: { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl },
    });
    await infra.stop();

    assert.equal(infra.databaseUrl, databaseUrl);
    assert.equal(infra.redisUrl, redisUrl);
    assert.deepEqual(infra.sources, { postgres: 'env', redis: 'env' });
  });

  it('leaves the given servers running on stop()', async () => {
    const { databaseUrl, redisUrl } = servers.infra;
    const infra = await resolveInfrastructure({
      env: { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl },
    });

    await infra.stop();

    assert.deepEqual(await query(databaseUrl, 'SELECT 1 AS one'), [{ one: 1 }]);
    assert.equal(await redisCommand(redisUrl, 'PING'), 'PONG');
  });

  it('starts only the server whose variable is missing, and stops only that one', async () => {
    const { databaseUrl } = servers.infra;
    const infra = await resolveInfrastructure({ env: { DATABASE_URL: databaseUrl } });
    try {
      assert.equal(infra.sources.postgres, 'env');
      assert.notEqual(infra.sources.redis, 'env');
      assert.equal(await redisCommand(infra.redisUrl, 'PING'), 'PONG');
    } finally {
      await infra.stop();
    }

    assert.equal(await connectError(infra.redisUrl), 'ECONNREFUSED');
    assert.deepEqual(await query(databaseUrl, 'SELECT 1 AS one'), [{ one: 1 }]);
  });
});

describe('resolveInfrastructure with nothing configured', () => {
  const servers = resolvedPerSuite({});

  it('starts a PostgreSQL and a Redis of its own that answer', async () => {
    const { infra } = servers;

    assert.notEqual(infra.sources.postgres, 'env');
    assert.notEqual(infra.sources.redis, 'env');
    assert.deepEqual(await query(infra.databaseUrl, 'SELECT 1 AS one'), [{ one: 1 }]);
    assert.equal(await redisCommand(infra.redisUrl, 'PING'), 'PONG');
  });

  it('stops both servers on stop(): connections are refused afterwards', async () => {
    const { databaseUrl, redisUrl } = servers.infra;

    await servers.stop();

    assert.equal(await connectError(databaseUrl), 'ECONNREFUSED');
    assert.equal(await connectError(redisUrl), 'ECONNREFUSED');
  });
});

describe('resolveInfrastructure with FLOTILLA_INFRA=local', () => {
  const servers = resolvedPerSuite({ FLOTILLA_INFRA: 'local' });
  /** The temp dirs the servers run in, as the servers themselves report them. */
  let dirs: { postgres: string; redis: string };
  before(async () => {
    const { infra } = servers;
    const [pgRow] = await query<{ dir: string }>(
      infra.databaseUrl,
      "SELECT current_setting('data_directory') AS dir",
    );
    const [, redisDir] = (await redisCommand(infra.redisUrl, 'CONFIG', 'GET', 'dir')) as string[];
    dirs = { postgres: dirname(pgRow!.dir), redis: dirname(redisDir!) };
  });

  it('runs the servers from local binaries in flotilla- temp dirs', () => {
    assert.deepEqual(servers.infra.sources, { postgres: 'local', redis: 'local' });
    assert.match(dirs.postgres, /flotilla-pg-[^/]+$/);
    assert.match(dirs.redis, /flotilla-redis-[^/]+$/);
    assert.equal(dirname(dirs.postgres), tmpdir());
    assert.equal(dirname(dirs.redis), tmpdir());
    assert.equal(existsSync(join(dirs.postgres, 'data', 'PG_VERSION')), true);
  });

  it('ends the server processes and removes their temp dirs on stop()', async () => {
    const { databaseUrl, redisUrl } = servers.infra;

    await servers.stop();

    assert.equal(await connectError(databaseUrl), 'ECONNREFUSED');
    assert.equal(await connectError(redisUrl), 'ECONNREFUSED');
    assert.equal(existsSync(dirs.postgres), false, `${dirs.postgres} removed`);
    assert.equal(existsSync(dirs.redis), false, `${dirs.redis} removed`);
  });
});

describe('resolveInfrastructure with a bad FLOTILLA_INFRA', () => {
  it('throws a message that names the variable, the allowed values and the bad one', async () => {
    await assert.rejects(
      resolveInfrastructure({ env: { FLOTILLA_INFRA: 'bogus' } }),
      /FLOTILLA_INFRA must be "local" or "docker", got "bogus"/,
    );
  });
});
