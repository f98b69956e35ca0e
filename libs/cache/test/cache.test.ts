import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import {
  freePort,
  startTestInfrastructure,
  waitFor,
  type TestInfrastructure,
} from '@flotilla/testing';
import { closeRedis, createJsonCache, createRedis, redisCheck } from '../src/index.ts';

let infra: TestInfrastructure;
let raw: Redis;
const opened: Redis[] = [];
before(async () => {
  infra = await startTestInfrastructure();
  raw = new Redis(infra.redisUrl);
});
after(async () => {
  // Clients of failed tests are closed here too, so nothing keeps the process alive.
  for (const client of opened) await closeRedis(client);
  raw.disconnect();
  await infra.stop();
});

const config = (url: string, keyPrefix: string) => ({
  url,
  keyPrefix,
  commandTimeoutMs: 200,
  connectTimeoutMs: 500,
});

/** A client of the lib, connected (commands are not queued before that, by design). */
async function connected(keyPrefix: string): Promise<Redis> {
  const redis = open(infra.redisUrl, keyPrefix);
  if (redis.status !== 'ready') await once(redis, 'ready');
  return redis;
}

function open(
  url: string,
  keyPrefix: string,
  onError: (err: Error) => void = () => undefined,
): Redis {
  const redis = createRedis(config(url, keyPrefix), onError);
  opened.push(redis);
  return redis;
}

describe('createRedis', () => {
  it('prefixes every key', async () => {
    const redis = await connected(`${infra.redisKeyPrefix}svc:`);
    await redis.set('greeting', 'hi');
    assert.equal(await raw.get(`${infra.redisKeyPrefix}svc:greeting`), 'hi');
  });

  it('fails fast instead of queueing when Redis is unreachable', async () => {
    const errors: Error[] = [];
    const redis = open(`redis://127.0.0.1:${await freePort()}`, 'x:', (err) => errors.push(err));
    const started = Date.now();
    await assert.rejects(redis.get('anything'));
    assert.ok(Date.now() - started < 1000, 'no waiting for a connection');
  });

  it('reconnects by itself after the connection is killed', async () => {
    const redis = await connected('x:');
    const id = await redis.client('ID');
    await raw.client('KILL', 'ID', String(id));
    await sleep(50);
    await waitFor(
      'reconnected',
      async () => {
        assert.equal(await redis.ping(), 'PONG');
      },
      { timeoutMs: 5000 },
    );
    assert.notEqual(await redis.client('ID'), id);
  });

  it('has a non-critical readiness check by default', async () => {
    const redis = await connected('x:');
    const check = redisCheck(redis);
    assert.equal(check.critical, false);
    assert.equal(await check.check(), 'PONG');
    assert.equal(redisCheck(redis, { critical: true }).critical, true);
  });
});

describe('createJsonCache', () => {
  it('stores, reads and deletes JSON values with a TTL', async () => {
    const redis = await connected(`${infra.redisKeyPrefix}c:`);
    const cache = createJsonCache<{ n: number }>(redis, {
      namespace: 'thing',
      ttlSeconds: 30,
      onError: () => undefined,
    });
    assert.equal(await cache.get('1'), undefined);
    await cache.set('1', { n: 42 });
    assert.deepEqual(await cache.get('1'), { n: 42 });
    const ttl = await raw.ttl(`${infra.redisKeyPrefix}c:thing:1`);
    assert.ok(ttl > 0 && ttl <= 30, `ttl ${ttl}`);
    await cache.delete('1');
    assert.equal(await cache.get('1'), undefined);
  });

  it('fails open when Redis is down: misses, no throws, every failure reported', async () => {
    const redis = open(`redis://127.0.0.1:${await freePort()}`, 'x:');
    const failures: string[] = [];
    const cache = createJsonCache<number>(redis, {
      namespace: 'n',
      ttlSeconds: 5,
      onError: (_err, op) => failures.push(op),
    });
    assert.equal(await cache.get('a'), undefined);
    await cache.set('a', 1);
    await cache.delete('a');
    assert.deepEqual(failures, ['get', 'set', 'delete']);
  });
});
