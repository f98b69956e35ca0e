import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import {
  ADMIN_TOKEN,
  startEcho,
  startGateway,
  type Echo,
  type GatewayUnderTest,
} from './helpers.ts';

let gw: GatewayUnderTest;
let v2: Echo;
before(async () => {
  gw = await startGateway({
    RATE_LIMIT_USER_PER_MINUTE: '60',
    RATE_LIMIT_BURST: '5',
    RATE_LIMIT_CLIENT_PER_MINUTE: '100000',
  });
  v2 = await startEcho('user-service-v2');
});
after(async () => {
  await v2.stop();
  await gw.stop();
});

const admin = () => ({ Authorization: `Bearer ${ADMIN_TOKEN}` });
const setWeights = (v1Weight: number, v2Weight: number) =>
  request(gw.admin)
    .put('/admin/upstreams/user-service')
    .set(admin())
    .send({
      versions: [
        { version: 'v1', url: gw.upstreams.users.url, weight: v1Weight },
        { version: 'v2', url: v2.url, weight: v2Weight },
      ],
    });
const register = () => request(gw.app).post('/api/users').send({});

describe('weighted upstreams', () => {
  it('sends traffic by weight and honours a pinned version', async () => {
    await setWeights(100, 0).expect(200);
    for (let i = 0; i < 10; i++) assert.equal((await register()).body.upstream, 'user-service');
    await setWeights(0, 100).expect(200);
    for (let i = 0; i < 10; i++) assert.equal((await register()).body.upstream, 'user-service-v2');
    const pinned = await request(gw.app)
      .post('/api/users')
      .set('x-flotilla-version', 'v1')
      .send({});
    assert.equal(pinned.body.upstream, 'user-service');

    await setWeights(50, 50).expect(200);
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) seen.add((await register()).body.upstream as string);
    assert.deepEqual([...seen].sort(), ['user-service', 'user-service-v2']);
  });

  it('drops no request while weights move from 100/0 to 0/100 under steady traffic', async () => {
    await setWeights(100, 0).expect(200);
    let stop = false;
    const statuses: number[] = [];
    const traffic = (async () => {
      while (!stop) {
        const batch = await Promise.all(Array.from({ length: 5 }, () => register()));
        statuses.push(...batch.map((r) => r.status));
      }
    })();
    // Each step waits for answers, not for a time, so every step sees traffic on a busy machine.
    const answered = async (count: number) => {
      const target = statuses.length + count;
      const deadline = Date.now() + 30_000;
      while (statuses.length < target) {
        if (Date.now() > deadline) throw new Error(`only ${statuses.length} of ${target} answers`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    for (const [a, b] of [
      [90, 10],
      [50, 50],
      [10, 90],
      [0, 100],
    ] as const) {
      await setWeights(a, b).expect(200);
      await answered(10);
    }
    stop = true;
    await traffic;
    assert.deepEqual(
      statuses.filter((s) => s !== 200),
      [],
      'no failed request',
    );
  });

  it('protects the admin API with its token and validates weights', async () => {
    assert.equal((await request(gw.admin).get('/admin/upstreams')).status, 401);
    assert.equal(
      (await request(gw.admin).get('/admin/upstreams').set('Authorization', 'Bearer wrong')).status,
      401,
    );
    const listed = await request(gw.admin).get('/admin/upstreams').set(admin()).expect(200);
    assert.ok(listed.body['order-service']);
    const bad = [
      { versions: [] },
      { versions: [{ version: 'v1', url: gw.upstreams.users.url, weight: 0 }] },
      { versions: [{ version: 'v1', url: 'ftp://x', weight: 10 }] },
      {
        versions: [
          { version: 'v1', url: gw.upstreams.users.url, weight: 10 },
          { version: 'v1', url: v2.url, weight: 10 },
        ],
      },
    ];
    for (const body of bad) {
      assert.equal(
        (await request(gw.admin).put('/admin/upstreams/user-service').set(admin()).send(body))
          .status,
        400,
        JSON.stringify(body),
      );
    }
    assert.equal(
      (await request(gw.admin).put('/admin/upstreams/nope').set(admin()).send(bad[1])).status,
      404,
    );
  });
});

describe('rate limits', () => {
  it('answers 429 with Retry-After past a user limit, per user', async () => {
    const alice = `Bearer ${await gw.token('alice')}`;
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++)
      statuses.push((await request(gw.app).get('/api/orders').set('Authorization', alice)).status);
    assert.deepEqual(statuses.slice(0, 5), [200, 200, 200, 200, 200], 'the burst passes');
    const limited = await request(gw.app).get('/api/orders').set('Authorization', alice);
    assert.equal(limited.status, 429);
    assert.equal(limited.body.code, 'RATE_LIMITED');
    assert.ok(Number(limited.headers['retry-after']) >= 1);

    const bob = `Bearer ${await gw.token('bob')}`;
    assert.equal(
      (await request(gw.app).get('/api/orders').set('Authorization', bob)).status,
      200,
      'another user is not limited',
    );
  });
});
