import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { ADMIN_TOKEN, startGateway, type GatewayUnderTest } from './helpers.ts';

let gw: GatewayUnderTest;
before(async () => {
  gw = await startGateway({
    TRUST_PROXY: 'true',
    // One token a minute: no bucket refills while a test runs.
    RATE_LIMIT_CLIENT_PER_MINUTE: '1',
    RATE_LIMIT_USER_PER_MINUTE: '1',
    RATE_LIMIT_BURST: '3',
    // The deploy kit's credential: requests carrying it in x-flotilla-release-token skip the limits.
    ADMIN_TOKEN,
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

describe("rate limits: the deploy kit's release token", () => {
  const RELEASE_TOKEN_HEADER = 'x-flotilla-release-token';

  it('never refuses a request carrying the admin token, while one without it from the same client and user gets 429', async () => {
    const client = newClient();
    const bearer = `Bearer ${await gw.token()}`;

    const kitStatuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      kitStatuses.push((await get(client, bearer).set(RELEASE_TOKEN_HEADER, ADMIN_TOKEN)).status);
    }
    const others: number[] = [];
    for (let i = 0; i < 4; i++) others.push((await get(client, bearer)).status);

    assert.deepEqual(kitStatuses, [200, 200, 200, 200, 200, 200], 'twice the burst, none refused');
    assert.deepEqual(others, [200, 200, 200, 429], 'the kit took nothing from their buckets');
  });

  it('gives a wrong token no exemption', async () => {
    const client = newClient();
    const bearer = `Bearer ${await gw.token()}`;
    const wrong = `${ADMIN_TOKEN.slice(0, -1)}X`;

    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await get(client, bearer).set(RELEASE_TOKEN_HEADER, wrong)).status);
    }

    assert.deepEqual(statuses, [200, 200, 200, 429]);
  });

  it('does not pass the release token on to the upstream', async () => {
    const marker = crypto.randomUUID();

    const res = await get(newClient(), `Bearer ${await gw.token()}`)
      .set(RELEASE_TOKEN_HEADER, ADMIN_TOKEN)
      .set('x-test-marker', marker);

    assert.equal(res.status, 200);
    const seen = gw.upstreams.orders.seen.find((s) => s.headers['x-test-marker'] === marker);
    assert.ok(seen, 'the request reached the upstream with its other headers');
    assert.equal(seen.headers[RELEASE_TOKEN_HEADER], undefined);
    assert.ok(
      !JSON.stringify(seen.headers).includes(ADMIN_TOKEN),
      'the token is in no header the upstream received',
    );
  });
});
