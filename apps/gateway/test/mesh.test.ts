import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig, ConfigError } from '@flotilla/config';
import request from 'supertest';
import { configSchema } from '../src/config.ts';
import { createMeshApp } from '../src/mesh.ts';
import { startEcho, startGateway, type Echo, type GatewayUnderTest } from './helpers.ts';

let gw: GatewayUnderTest;
let v2: Echo;
before(async () => {
  v2 = await startEcho('payment-service-v2');
  gw = await startGateway({
    UPSTREAMS: JSON.stringify({
      'payment-service': [
        { version: 'v1', url: 'http://127.0.0.1:1', weight: 0 },
        { version: 'v2', url: v2.url, weight: 100 },
      ],
    }),
  });
});
after(async () => {
  await gw.stop();
  await v2.stop();
});

describe('mesh listener', () => {
  it('routes /<service>/<path> to the service by weight, without a token, and counts it', async () => {
    const mesh = createMeshApp(gw.deps);
    const res = await request(mesh).post('/payment-service/payments?x=1').send({ amount: 1 });
    assert.equal(res.status, 200);
    assert.equal(res.body.upstream, 'payment-service-v2');
    assert.equal(res.body.url, '/payments?x=1');
    assert.equal(res.headers['x-flotilla-upstream'], 'payment-service@v2');
    const users = await request(mesh).get('/user-service/.well-known/jwks.json');
    assert.equal(users.body.upstream, 'user-service');
    assert.equal(users.body.url, '/.well-known/jwks.json');
    const metrics = await gw.deps.metrics.registry.getSingleMetricAsString(
      'gateway_upstream_requests_total',
    );
    assert.match(
      metrics,
      /upstream="payment-service",version="v2",status_code="200",service="gateway"} 1/,
    );
  });

  it('answers a problem+json 404 for a service it does not know', async () => {
    const res = await request(createMeshApp(gw.deps)).get('/nope/x');
    assert.equal(res.status, 404);
    assert.match(res.headers['content-type'] ?? '', /problem\+json/);
  });
});

describe('UPSTREAMS', () => {
  it('starts a service with the versions it names and the others at v1', () => {
    assert.deepEqual(
      gw.deps.upstreams.get('payment-service')?.map((v) => [v.version, v.weight]),
      [
        ['v1', 0],
        ['v2', 100],
      ],
    );
    assert.deepEqual(
      gw.deps.upstreams.get('order-service')?.map((v) => v.version),
      ['v1'],
    );
  });

  it('refuses JSON that is not a table of versions, naming the key', () => {
    const base = {
      REDIS_URL: 'redis://127.0.0.1:1',
      AUTH_JWKS_URL: 'http://127.0.0.1:1/jwks',
      USER_SERVICE_URL: 'http://127.0.0.1:1',
      ORDER_SERVICE_URL: 'http://127.0.0.1:1',
      PAYMENT_SERVICE_URL: 'http://127.0.0.1:1',
    };
    for (const bad of [
      '{not json',
      '{"cart-service":[{"version":"v1","url":"http://x","weight":1}]}',
      '{"user-service":[{"version":"v1","url":"http://x","weight":0}]}',
    ]) {
      assert.throws(
        () => loadConfig('gateway', configSchema, { ...base, UPSTREAMS: bad }),
        (err: unknown) =>
          err instanceof ConfigError && err.issues.some((i) => i.key.startsWith('UPSTREAMS')),
        bad,
      );
    }
  });
});
