import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { freePort, startTestInfrastructure, type TestInfrastructure } from '@flotilla/testing';
import { closeRedis, createJsonCache, createRedis } from '../src/index.ts';

interface Profile {
  name: string;
  tags: string[];
  manager: { id: number } | null;
}

let infra: TestInfrastructure;
/** A plain client without the lib's prefix, to look at keys as they are stored. */
let raw: Redis;
let redis: Redis;
let unreachable: Redis;

before(async () => {
  infra = await startTestInfrastructure();
  raw = new Redis(infra.redisUrl);
  const config = { keyPrefix: infra.redisKeyPrefix, commandTimeoutMs: 200, connectTimeoutMs: 500 };
  redis = createRedis({ ...config, url: infra.redisUrl }, () => undefined);
  await once(redis, 'ready');
  unreachable = createRedis(
    { ...config, url: `redis://127.0.0.1:${await freePort()}` },
    () => undefined,
  );
});
after(async () => {
  try {
    for (const client of [redis, unreachable, raw]) await closeRedis(client);
  } finally {
    await infra.stop();
  }
});

const failures: { op: string; err: Error }[] = [];
const recordFailure = (err: Error, op: string) => failures.push({ op, err });
const profiles = (client: Redis, ttlSeconds = 60) =>
  createJsonCache<Profile>(client, { namespace: 'profile', ttlSeconds, onError: recordFailure });
const rawKey = (key: string) => `${infra.redisKeyPrefix}profile:${key}`;
const alice: Profile = { name: 'Alice', tags: ['admin', 'ops'], manager: null };

describe('createJsonCache', () => {
  it('misses a key that was never set', async () => {
    failures.length = 0;

    assert.equal(await profiles(redis).get('never-set'), undefined);
    assert.deepEqual(failures, []);
  });

  it('reads back the value it stored', async () => {
    failures.length = 0;
    const cache = profiles(redis);

    await cache.set('alice', alice);

    assert.deepEqual(await cache.get('alice'), alice);
    assert.deepEqual(failures, []);
  });

  it('stores JSON under namespace:key, after the client key prefix', async () => {
    await profiles(redis).set('bob', { ...alice, name: 'Bob' });

    assert.deepEqual(JSON.parse((await raw.get(rawKey('bob'))) ?? 'null'), {
      ...alice,
      name: 'Bob',
    });
  });

  it('sets the TTL on every write', async () => {
    await raw.set(rawKey('carol'), JSON.stringify(alice));
    assert.equal(await raw.ttl(rawKey('carol')), -1, 'no expiry before the write');

    await profiles(redis, 30).set('carol', alice);

    const ttl = await raw.ttl(rawKey('carol'));
    assert.ok(ttl > 0 && ttl <= 30, `ttl ${ttl}`);
  });

  it('deletes a value', async () => {
    const cache = profiles(redis);
    await cache.set('dave', alice);

    await cache.delete('dave');

    assert.equal(await raw.exists(rawKey('dave')), 0);
    assert.equal(await cache.get('dave'), undefined);
  });

  it('treats a value that is not JSON as a miss and reports it', async () => {
    failures.length = 0;
    await raw.set(rawKey('garbled'), '{not json');

    const value = await profiles(redis).get('garbled');

    assert.equal(value, undefined);
    assert.deepEqual(
      failures.map((f) => [f.op, f.err.name]),
      [['get', 'SyntaxError']],
    );
  });

  it('fails open when Redis is unreachable: get misses, set and delete resolve', async () => {
    const cache = profiles(unreachable);

    assert.equal(await cache.get('alice'), undefined);
    await cache.set('alice', alice);
    await cache.delete('alice');
  });

  it('reports each failed operation to onError with its name and the error', async () => {
    failures.length = 0;
    const cache = profiles(unreachable);

    await cache.get('alice');
    await cache.set('alice', alice);
    await cache.delete('alice');

    assert.deepEqual(
      failures.map((f) => f.op),
      ['get', 'set', 'delete'],
    );
    for (const { err } of failures) assert.ok(err instanceof Error, String(err));
  });
});
