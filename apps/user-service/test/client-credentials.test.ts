import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { buildUser, startService, type ServiceUnderTest } from './helpers.ts';

const SECRET = 'order-service-secret-that-is-long-enough';
let service: ServiceUnderTest;

before(async () => {
  service = await startService({ SERVICE_CLIENTS: JSON.stringify({ 'order-service': SECRET }) });
});
after(async () => {
  await service.stop();
});

const grant = (clientId: string, clientSecret: string) =>
  request(service.app)
    .post('/auth/token')
    .send({ grantType: 'client_credentials', clientId, clientSecret });

describe('POST /auth/token (client credentials)', () => {
  it('issues a short-lived service token that may look users up but not change them', async () => {
    const res = await grant('order-service', SECRET);
    assert.equal(res.status, 200);
    assert.equal(res.body.expiresIn, 300);
    const auth = { Authorization: `Bearer ${res.body.accessToken as string}` };

    const user = (
      await request(service.app)
        .post('/users')
        .send(buildUser({ name: 'Customer' }))
        .expect(201)
    ).body;
    const read = await request(service.app)
      .get(`/users/${user.id as string}`)
      .set(auth);
    assert.equal(read.status, 200);
    assert.equal(read.body.name, 'Customer');

    const change = await request(service.app)
      .patch(`/users/${user.id as string}`)
      .set(auth)
      .send({ name: 'Nope' });
    assert.equal(change.status, 403);
  });

  it('answers a wrong secret and an unknown client with the same 401', async () => {
    const wrong = await grant('order-service', 'x'.repeat(40));
    const unknown = await grant('nobody', SECRET);
    for (const res of [wrong, unknown]) {
      assert.equal(res.status, 401);
      assert.equal(res.body.code, 'AUTH_INVALID_CLIENT');
    }
  });

  it('refuses other grant types', async () => {
    const res = await request(service.app)
      .post('/auth/token')
      .send({ grantType: 'password', clientId: 'order-service', clientSecret: SECRET });
    assert.equal(res.status, 400);
  });
});
