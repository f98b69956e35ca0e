import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { ADMIN_TOKEN, startGateway, type GatewayUnderTest } from './helpers.ts';

let gw: GatewayUnderTest;
before(async () => {
  gw = await startGateway();
});
after(async () => {
  await gw.stop();
});

const bearer = async () => ({ Authorization: `Bearer ${await gw.token()}` });

describe('routing', () => {
  it('sends each prefix to its service with the prefix rewritten', async () => {
    const auth = await bearer();
    const cases: [string, string, string][] = [
      ['/api/users/me', 'user-service', '/users/me'],
      ['/api/orders/42?limit=2', 'order-service', '/orders/42?limit=2'],
      ['/api/payments/abc', 'payment-service', '/payments/abc'],
      ['/api/orders', 'order-service', '/orders'],
    ];
    for (const [path, upstream, url] of cases) {
      const res = await request(gw.app).get(path).set(auth);
      assert.equal(res.status, 200, path);
      assert.equal(res.body.upstream, upstream);
      assert.equal(res.body.url, url);
      assert.equal(res.headers['x-flotilla-upstream'], `${upstream}@v1`);
    }
  });

  it('streams request bodies and passes upstream statuses through', async () => {
    const res = await request(gw.app)
      .post('/api/auth/login')
      .send({ email: 'a@b.c', password: 'x' });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body.body as string), { email: 'a@b.c', password: 'x' });
    const missing = await request(gw.app)
      .get('/api/users/missing')
      .set(await bearer());
    assert.equal(missing.status, 404);
  });

  it('answers paths outside the API with a 404 problem', async () => {
    const res = await request(gw.app).get('/nowhere');
    assert.equal(res.status, 404);
    assert.equal(res.body.code, 'ROUTE_NOT_FOUND');
  });
});

describe('authentication', () => {
  it('lets registration and login through without a token', async () => {
    assert.equal((await request(gw.app).post('/api/users').send({})).status, 200);
    assert.equal((await request(gw.app).post('/api/auth/login').send({})).status, 200);
  });

  it('answers 401 without a token, or with a bad one, before reaching the service', async () => {
    const before = gw.upstreams.orders.seen.length;
    const none = await request(gw.app).get('/api/orders');
    assert.equal(none.status, 401);
    assert.equal(none.body.code, 'UNAUTHENTICATED');
    const forged = await request(gw.app).get('/api/orders').set('Authorization', 'Bearer a.b.c');
    assert.equal(forged.status, 401);
    assert.equal(gw.upstreams.orders.seen.length, before);
  });

  it('forwards the token so the service verifies it again', async () => {
    const auth = await bearer();
    await request(gw.app).get('/api/orders').set(auth).expect(200);
    assert.equal(gw.upstreams.orders.seen.at(-1)?.headers.authorization, auth.Authorization);
  });
});

describe('headers', () => {
  it('propagates x-request-id and traceparent, and drops hop-by-hop headers', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const res = await request(gw.app)
      .get('/api/orders')
      .set(await bearer())
      .set('x-request-id', 'req-abc')
      .set('traceparent', traceparent)
      .set('Proxy-Authorization', 'secret');
    assert.equal(res.headers['x-request-id'], 'req-abc');
    const seen = gw.upstreams.orders.seen.at(-1);
    assert.equal(seen?.headers['x-request-id'], 'req-abc');
    assert.equal(seen?.headers['traceparent'], traceparent);
    assert.equal(seen?.headers['proxy-authorization'], undefined);
    assert.ok(seen?.headers['x-forwarded-for']);
  });
});

describe('upstream failures', () => {
  it('answers 504 when the upstream is too slow', async () => {
    const res = await request(gw.app)
      .get('/api/orders/slow')
      .set(await bearer());
    assert.equal(res.status, 504);
    assert.equal(res.body.code, 'UPSTREAM_TIMEOUT');
    assert.match(res.headers['content-type'] ?? '', /problem\+json/);
  });

  it('answers 413 for a body over the limit', async () => {
    const res = await request(gw.app)
      .post('/api/auth/login')
      .set('content-type', 'application/json')
      .send(JSON.stringify({ x: 'y'.repeat(2048) }));
    assert.equal(res.status, 413);
  });

  it('counts a chunked body as it streams: whole under the limit, 413 over it', async () => {
    const chunked = (...chunks: string[]) => {
      const req = request(gw.app).post('/api/auth/login').set('content-type', 'application/json');
      for (const chunk of chunks) req.write(chunk);
      return req;
    };
    const under = await chunked('{"x":"', 'y'.repeat(500), '"}');
    assert.equal(under.status, 200);
    assert.deepEqual(JSON.parse(under.body.body as string), { x: 'y'.repeat(500) });

    const over = await chunked('{"x":"', 'y'.repeat(600), 'y'.repeat(600), '"}');
    assert.equal(over.status, 413);
  });

  it('answers 502 when the upstream refuses connections, and 503 when no version takes traffic', async () => {
    const admin = (service: string, versions: unknown) =>
      request(gw.admin)
        .put(`/admin/upstreams/${service}`)
        .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
        .send({ versions });
    await admin('payment-service', [
      { version: 'v1', url: 'http://127.0.0.1:1', weight: 100 },
    ]).expect(200);
    const refused = await request(gw.app)
      .get('/api/payments/x')
      .set(await bearer());
    assert.equal(refused.status, 502);
    assert.equal(refused.body.code, 'UPSTREAM_UNREACHABLE');
    const pinned = await request(gw.app)
      .get('/api/payments/x')
      .set(await bearer())
      .set('x-flotilla-version', 'v9');
    assert.equal(pinned.status, 503);
    assert.equal(pinned.body.code, 'NO_UPSTREAM');
    await admin('payment-service', [
      { version: 'v1', url: gw.upstreams.payments.url, weight: 100 },
    ]).expect(200);
  });
});

describe('metrics', () => {
  it('counts proxied requests per service, version and status', async () => {
    await request(gw.app)
      .get('/api/users/me')
      .set(await bearer())
      .expect(200);
    const text = (await request(gw.app).get('/metrics')).text;
    assert.match(
      text,
      /gateway_upstream_requests_total\{upstream="user-service",version="v1",status_code="200",service="gateway"\} \d+/,
    );
    assert.match(
      text,
      /gateway_upstream_request_duration_seconds_count\{[^}]*upstream="user-service",version="v1"/,
    );
  });
});
