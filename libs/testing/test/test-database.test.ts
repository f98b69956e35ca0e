import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { Redis } from 'ioredis';
import {
  createTestDatabase,
  ensureDatabase,
  resolveInfrastructure,
  startTestInfrastructure,
  type Infrastructure,
  type TestDatabase,
} from '../src/index.ts';

let servers: Infrastructure;
/** A plain Redis client on the shared server. */
let raw: Redis;
/** Databases the tests made; dropped in `after` in case a test failed before dropping them. */
const databaseNames: string[] = [];
const otherKey = `not-a-suite-key-${randomBytes(4).toString('hex')}`;

before(async () => {
  servers = await resolveInfrastructure();
  raw = new Redis(servers.redisUrl);
});
after(async () => {
  try {
    for (const name of databaseNames) {
      await query(servers.databaseUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    }
    await raw.del(otherKey);
    raw.disconnect();
  } finally {
    await servers.stop();
  }
});

async function query<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function databaseExists(name: string): Promise<boolean> {
  const rows = await query(
    servers.databaseUrl,
    `SELECT 1 FROM pg_database WHERE datname = '${name.replaceAll("'", "''")}'`,
  );
  return rows.length === 1;
}

async function testDatabase(prefix?: string): Promise<TestDatabase> {
  const database = await createTestDatabase(servers.databaseUrl, prefix);
  databaseNames.push(database.name);
  return database;
}

describe('createTestDatabase', () => {
  it('creates an empty database with a prefixed random name and a URL that reaches it', async () => {
    const database = await testDatabase('suite');

    assert.match(database.name, /^suite_[0-9a-f]{12}$/);
    assert.deepEqual(await query(database.url, 'SELECT current_database() AS db'), [
      { db: database.name },
    ]);
    assert.deepEqual(
      await query(database.url, "SELECT 1 FROM pg_tables WHERE schemaname = 'public'"),
      [],
    );
  });

  it('gives isolated databases: a table made in one is absent from another', async () => {
    const a = await testDatabase();
    const b = await testDatabase();

    await query(a.url, 'CREATE TABLE only_in_a (id int)');

    assert.notEqual(a.name, b.name);
    await assert.rejects(query(b.url, 'SELECT * FROM only_in_a'), /does not exist/);
  });

  it('drop() removes the database, even while a client is connected to it', async () => {
    const database = await testDatabase();
    const client = new pg.Client({ connectionString: database.url });
    client.on('error', () => undefined); // the forced drop ends this connection
    await client.connect();

    await database.drop();

    assert.equal(await databaseExists(database.name), false);
    await client.end().catch(() => undefined);
  });
});

describe('ensureDatabase', () => {
  it('creates the database and returns its URL', async () => {
    const name = `ensure_${randomBytes(4).toString('hex')}`;
    databaseNames.push(name);

    const url = await ensureDatabase(servers.databaseUrl, name);

    assert.deepEqual(await query(url, 'SELECT current_database() AS db'), [{ db: name }]);
  });

  it('leaves an existing database and its data alone', async () => {
    const name = `ensure_${randomBytes(4).toString('hex')}`;
    databaseNames.push(name);
    const first = await ensureDatabase(servers.databaseUrl, name);
    await query(first, 'CREATE TABLE kept (id int); INSERT INTO kept VALUES (7)');

    const second = await ensureDatabase(servers.databaseUrl, name);

    assert.equal(second, first);
    assert.deepEqual(await query(second, 'SELECT id FROM kept'), [{ id: 7 }]);
  });

  it('rejects names that are not plain lower-case identifiers, creating nothing', async () => {
    for (const name of ['x"; DROP DATABASE postgres; --', 'Users', '1st', 'a-b', '']) {
      await assert.rejects(
        ensureDatabase(servers.databaseUrl, name),
        /unsafe database name/,
        JSON.stringify(name),
      );
      if (name !== '') assert.equal(await databaseExists(name), false, name);
    }
  });
});

describe('startTestInfrastructure', () => {
  const env = () => ({ DATABASE_URL: servers.databaseUrl, REDIS_URL: servers.redisUrl });

  it('gives each suite its own database and key prefix on the same servers', async () => {
    const one = await startTestInfrastructure({ env: env() });
    const two = await startTestInfrastructure({ env: env() });
    try {
      assert.notEqual(one.databaseUrl, two.databaseUrl);
      assert.notEqual(one.redisKeyPrefix, two.redisKeyPrefix);
      assert.equal(one.redisUrl, servers.redisUrl);
      await query(one.databaseUrl, 'CREATE TABLE mine (id int)');
      await assert.rejects(query(two.databaseUrl, 'SELECT * FROM mine'), /does not exist/);
    } finally {
      await one.stop();
      await two.stop();
    }
  });

  it('stop() drops its database and deletes its own Redis keys only', async () => {
    const suite = await startTestInfrastructure({ env: env() });
    const neighbour = await startTestInfrastructure({ env: env() });
    const suiteDatabase = new URL(suite.databaseUrl).pathname.slice(1);
    databaseNames.push(suiteDatabase, new URL(neighbour.databaseUrl).pathname.slice(1));
    try {
      await raw.set(`${suite.redisKeyPrefix}a`, '1');
      await raw.set(`${suite.redisKeyPrefix}b:c`, '1');
      await raw.set(`${neighbour.redisKeyPrefix}a`, '1');
      await raw.set(otherKey, '1');

      await suite.stop();

      assert.equal(await databaseExists(suiteDatabase), false);
      assert.equal(await raw.exists(`${suite.redisKeyPrefix}a`, `${suite.redisKeyPrefix}b:c`), 0);
      assert.equal(await raw.exists(`${neighbour.redisKeyPrefix}a`, otherKey), 2);
    } finally {
      await neighbour.stop();
    }
  });

  it('stop() leaves servers given through the environment running', async () => {
    const suite = await startTestInfrastructure({ env: env() });

    await suite.stop();

    assert.deepEqual(await query(servers.databaseUrl, 'SELECT 1 AS one'), [{ one: 1 }]);
    assert.equal(await raw.ping(), 'PONG');
  });
});
