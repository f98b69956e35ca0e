import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import pg from 'pg';
import { Redis } from 'ioredis';
import {
  createTestDatabase,
  ensureDatabase,
  freePort,
  resolveInfrastructure,
  startTestInfrastructure,
  waitFor,
} from '../src/index.ts';

const flotillaTempDirs = () => readdirSync(tmpdir()).filter((d) => d.startsWith('flotilla-'));

async function query(url: string, sql: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

async function ping(url: string) {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await redis.ping();
  } finally {
    redis.disconnect();
  }
}

describe('resolveInfrastructure', () => {
  it('starts private servers from local binaries and removes them and their temp dirs on stop', async () => {
    const before = new Set(flotillaTempDirs());
    const infra = await resolveInfrastructure({ env: { FLOTILLA_INFRA: 'local' } });
    assert.deepEqual(infra.sources, { postgres: 'local', redis: 'local' });
    const created = flotillaTempDirs().filter((d) => !before.has(d));
    assert.equal(created.length, 2, 'one temp dir per server');

    assert.equal((await query(infra.databaseUrl, 'SELECT 1 AS one')).rows[0].one, 1);
    assert.equal(await ping(infra.redisUrl), 'PONG');

    await infra.stop();
    await assert.rejects(query(infra.databaseUrl, 'SELECT 1'));
    await assert.rejects(ping(infra.redisUrl));
    for (const dir of created)
      assert.equal(existsSync(`${tmpdir()}/${dir}`), false, `${dir} removed`);
  });

  it('uses DATABASE_URL and REDIS_URL when set and leaves those servers alone', async () => {
    const own = await resolveInfrastructure({ env: { FLOTILLA_INFRA: 'local' } });
    try {
      const infra = await resolveInfrastructure({
        env: { DATABASE_URL: own.databaseUrl, REDIS_URL: own.redisUrl },
      });
      assert.deepEqual(infra.sources, { postgres: 'env', redis: 'env' });
      assert.equal(infra.databaseUrl, own.databaseUrl);
      await infra.stop();
      assert.equal(await ping(own.redisUrl), 'PONG', 'still running');
    } finally {
      await own.stop();
    }
  });

  it('refuses an unknown FLOTILLA_INFRA with a clear message', async () => {
    await assert.rejects(
      resolveInfrastructure({ env: { FLOTILLA_INFRA: 'cloud' } }),
      /FLOTILLA_INFRA must be "local" or "docker"/,
    );
  });
});

describe('test databases', () => {
  it('gives each suite an isolated database and drops it', async () => {
    const infra = await resolveInfrastructure();
    try {
      const a = await createTestDatabase(infra.databaseUrl);
      const b = await createTestDatabase(infra.databaseUrl);
      await query(a.url, 'CREATE TABLE only_in_a (id int)');
      await assert.rejects(query(b.url, 'SELECT * FROM only_in_a'), /does not exist/);
      await a.drop();
      await b.drop();
      const { rowCount } = await query(
        infra.databaseUrl,
        `SELECT 1 FROM pg_database WHERE datname IN ('${a.name}', '${b.name}')`,
      );
      assert.equal(rowCount, 0);
    } finally {
      await infra.stop();
    }
  });

  it('creates a named database once and refuses unsafe names', async () => {
    const infra = await resolveInfrastructure();
    try {
      const first = await ensureDatabase(infra.databaseUrl, 'flotilla_ensure_test');
      const second = await ensureDatabase(infra.databaseUrl, 'flotilla_ensure_test');
      assert.equal(first, second);
      assert.equal(
        (await query(first, 'SELECT current_database() AS db')).rows[0].db,
        'flotilla_ensure_test',
      );
      await assert.rejects(
        ensureDatabase(infra.databaseUrl, 'x"; DROP DATABASE postgres; --'),
        /unsafe database name/,
      );
      await query(infra.databaseUrl, 'DROP DATABASE flotilla_ensure_test WITH (FORCE)');
    } finally {
      await infra.stop();
    }
  });

  it("startTestInfrastructure's stop drops its database and deletes only its own keys", async () => {
    const shared = await resolveInfrastructure();
    const env = { DATABASE_URL: shared.databaseUrl, REDIS_URL: shared.redisUrl };
    try {
      const suite = await startTestInfrastructure({ env });
      const raw = new Redis(shared.redisUrl);
      await raw.set(`${suite.redisKeyPrefix}mine`, '1');
      await raw.set('someone-else', '1');
      await suite.stop();
      assert.equal(await raw.exists(`${suite.redisKeyPrefix}mine`), 0);
      assert.equal(await raw.exists('someone-else'), 1);
      await raw.del('someone-else');
      raw.disconnect();
      await assert.rejects(query(suite.databaseUrl, 'SELECT 1'), /does not exist/);
    } finally {
      await shared.stop();
    }
  });
});

describe('freePort and waitFor', () => {
  it('finds a port that can be bound', async () => {
    const port = await freePort();
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    server.close();
  });

  it('retries until the probe succeeds, and reports the last error as the cause on timeout', async () => {
    let calls = 0;
    assert.equal(
      await waitFor(
        'third time',
        () => (++calls < 3 ? Promise.reject(new Error('not yet')) : Promise.resolve('ok')),
        { intervalMs: 5 },
      ),
      'ok',
    );
    await assert.rejects(
      waitFor('never', () => Promise.reject(new Error('still no')), {
        timeoutMs: 50,
        intervalMs: 5,
      }),
      (err: unknown) => {
        assert.match((err as Error).message, /never did not become ready within 50 ms/);
        assert.match(((err as Error).cause as Error).message, /still no/);
        return true;
      },
    );
  });
});
