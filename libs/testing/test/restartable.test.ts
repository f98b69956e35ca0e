import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { Redis } from 'ioredis';
import { startLocalPostgres, startLocalRedis, type RestartableServer } from '../src/index.ts';

async function query<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('a durable local PostgreSQL, halted and resumed', () => {
  let server: RestartableServer;
  before(async () => {
    server = await startLocalPostgres({ durable: true });
  });
  after(() => server?.stop());

  it('refuses connections while halted and keeps every committed row across the crash', async () => {
    await query(server.url, 'CREATE TABLE kept (n int)');
    await query(server.url, 'INSERT INTO kept SELECT generate_series(1, 1000)');
    await server.halt();
    await assert.rejects(query(server.url, 'SELECT 1'), /ECONNREFUSED/);
    await server.resume();
    const [row] = await query<{ count: string }>(server.url, 'SELECT count(*) FROM kept');
    assert.equal(row?.count, '1000');
  });
});

describe('a local Redis, halted and resumed', () => {
  let server: RestartableServer;
  before(async () => {
    server = await startLocalRedis();
  });
  after(() => server?.stop());

  it('is gone while halted and answers on the same URL once resumed', async () => {
    const ping = async () => {
      const redis = new Redis(server.url, {
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
    };
    assert.equal(await ping(), 'PONG');
    await server.halt();
    await assert.rejects(ping());
    await server.resume();
    assert.equal(await ping(), 'PONG');
  });
});
