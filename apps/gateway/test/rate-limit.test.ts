import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { startGateway, type GatewayUnderTest } from './helpers.ts';

let gw: GatewayUnderTest;
before(async () => {
  gw = await startGateway({
    TRUST_PROXY: 'true',
    // One token a minute: no bucket refills while a test runs.
    RATE_LIMIT_CLIENT_PER_MINUTE: '1',
    RATE_LIMIT_USER_PER_MINUTE: '1',
    RATE_LIMIT_BURST: '3',
  });
  // Until Redis answers, the limiter lets everything through (fail open).
  while (gw.deps.redis.status !== 'ready') await sleep(20);
});
after(async () => {
  await gw.stop();
});

let clients = 0;
/** A client of its own (X-Forwarded-For is trusted here), so each test has fresh buckets. */
const newClient = () => `10.0.0.${++clients}`;
const get = (client: string, authorization?: string) => {
  const call = request(gw.app).get('/api/orders').set('X-Forwarded-For', client);
  return authorization ? call.set('Authorization', authorization) : call;
};

/** Rate-limit scripts Redis has run so far (its own count, from INFO commandstats). */
async function scriptCalls(): Promise<number> {
  const stats = await gw.deps.redis.info('commandstats');
  return [...stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  );
}

describe('rate limits', () => {
  it("refuses a client past its limit before looking at its tokens, naming the client's bucket", async () => {
    const client = newClient();
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await get(client, 'Bearer not.a.token')).status);

    const refused = await get(client, 'Bearer not.a.token');

    assert.deepEqual(statuses, [401, 401, 401]);
    assert.equal(refused.status, 429);
    assert.equal(refused.body.scope, 'client');
    assert.ok(Number(refused.headers['retry-after']) >= 1);
  });

  it("takes a known token's user and client tokens in one round trip, an unknown one in two", async () => {
    const client = newClient();
    const bearer = `Bearer ${await gw.token()}`;

    const before = await scriptCalls();
    const first = await get(client, bearer);
    const afterFirst = await scriptCalls();
    const second = await get(client, bearer);
    const afterSecond = await scriptCalls();

    assert.deepEqual([first.status, second.status], [200, 200]);
    assert.equal(afterFirst - before, 2, 'client, then user once the token is verified');
    assert.equal(afterSecond - afterFirst, 1, 'both at once for a token already verified');
    assert.deepEqual(
      [second.headers['ratelimit-remaining-client'], second.headers['ratelimit-remaining-user']],
      ['1', '1'],
    );
  });

  it("refuses a user past the user's limit, naming the user's bucket, with the client's left", async () => {
    const bearer = `Bearer ${await gw.token()}`;
    for (let i = 0; i < 3; i++) assert.equal((await get(newClient(), bearer)).status, 200);

    const refused = await get(newClient(), bearer);

    assert.equal(refused.status, 429);
    assert.equal(refused.body.scope, 'user');
    assert.equal(refused.headers['ratelimit-remaining-client'], '2');
  });
});
