import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { freePort } from '@flotilla/testing';
import request from 'supertest';
import { buildUser, startService, type ServiceUnderTest } from './helpers.ts';

async function registerAndLogin(service: ServiceUnderTest) {
  const input = buildUser();
  const user = (await request(service.app).post('/users').send(input).expect(201)).body as {
    id: string;
  };
  const login = await request(service.app)
    .post('/auth/login')
    .send({ email: input.email, password: input.password })
    .expect(200);
  return { user, auth: { Authorization: `Bearer ${login.body.accessToken as string}` } };
}

describe('profile cache with Redis up', () => {
  let service: ServiceUnderTest;
  let raw: Redis;
  before(async () => {
    service = await startService();
    raw = new Redis(service.infra.redisUrl);
  });
  after(async () => {
    raw.disconnect();
    await service.stop();
  });

  it('caches a profile read under the service key prefix with a TTL', async () => {
    const { user, auth } = await registerAndLogin(service);
    await request(service.app).get('/users/me').set(auth).expect(200);

    const key = `${service.infra.redisKeyPrefix}profile:${user.id}`;
    const cached = await raw.get(key);
    assert.ok(cached, 'profile is cached');
    assert.equal(JSON.parse(cached).id, user.id);
    const ttl = await raw.ttl(key);
    assert.ok(ttl > 0 && ttl <= 60, `ttl ${ttl}`);
  });

  it('serves reads from the cache', async () => {
    const { user, auth } = await registerAndLogin(service);
    await request(service.app).get('/users/me').set(auth).expect(200);
    // Change the row behind the cache's back: a cached read still shows the old name.
    await service.deps.db.query("UPDATE users SET name = 'Changed Directly' WHERE id = $1", [
      user.id,
    ]);
    const res = await request(service.app).get('/users/me').set(auth).expect(200);
    assert.equal(res.body.name, 'Ada Lovelace');
  });

  it('invalidates the cached profile on update', async () => {
    const { user, auth } = await registerAndLogin(service);
    await request(service.app).get('/users/me').set(auth).expect(200);
    await request(service.app)
      .patch(`/users/${user.id}`)
      .set(auth)
      .send({ name: 'Updated Name' })
      .expect(200);
    const res = await request(service.app).get('/users/me').set(auth).expect(200);
    assert.equal(res.body.name, 'Updated Name');
  });
});

describe('profile cache with Redis down', () => {
  let service: ServiceUnderTest;
  before(async () => {
    // Nothing listens on this port: every Redis command fails at once.
    service = await startService({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
  });
  after(async () => {
    await service.stop();
  });

  it('still registers, logs in, reads and updates, from the database', async () => {
    const { user, auth } = await registerAndLogin(service);
    const read = await request(service.app).get('/users/me').set(auth);
    assert.equal(read.status, 200);
    assert.equal(read.body.id, user.id);
    await request(service.app)
      .patch(`/users/${user.id}`)
      .set(auth)
      .send({ name: 'No Cache' })
      .expect(200);
    const again = await request(service.app).get(`/users/${user.id}`).set(auth).expect(200);
    assert.equal(again.body.name, 'No Cache');
  });

  it('stays ready and says in /ready that Redis is down', async () => {
    const res = await request(service.app).get('/ready');
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'degraded');
    assert.equal(res.body.checks.redis.status, 'down');
    assert.equal(res.body.checks.postgres.status, 'up');
  });

  it('counts the failed cache operations', async () => {
    const { auth } = await registerAndLogin(service);
    await request(service.app).get('/users/me').set(auth).expect(200);
    const metrics = (await request(service.app).get('/metrics').expect(200)).text;
    assert.match(metrics, /cache_errors_total\{op="get",service="user-service"\} [1-9]/);
  });
});
