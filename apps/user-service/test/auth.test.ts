import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import request from 'supertest';
import { generateSigningKeyPem } from '../src/auth/tokens.ts';
import { buildUser, startService, type ServiceUnderTest } from './helpers.ts';

let service: ServiceUnderTest;

before(async () => {
  service = await startService({
    JWT_PRIVATE_KEY: await generateSigningKeyPem(),
    JWT_KEY_ID: 'test-key-1',
  });
});
after(async () => {
  await service.stop();
});

describe('POST /auth/login', () => {
  it('returns a bearer token with its lifetime', async () => {
    const input = buildUser();
    const created = await request(service.app).post('/users').send(input).expect(201);
    const res = await request(service.app)
      .post('/auth/login')
      .send({ email: input.email, password: input.password });

    assert.equal(res.status, 200);
    assert.equal(res.body.tokenType, 'Bearer');
    assert.equal(res.body.expiresIn, 900);
    assert.equal(res.headers['cache-control'], 'no-store');
    const jwks = (await request(service.app).get('/.well-known/jwks.json').expect(200))
      .body as JSONWebKeySet;
    const { payload } = await jwtVerify(res.body.accessToken, createLocalJWKSet(jwks), {
      issuer: 'flotilla-user-service',
      audience: 'flotilla',
    });
    assert.equal(payload.sub, created.body.id);
    assert.equal(payload['role'], 'user');
    assert.equal(decodeProtectedHeader(res.body.accessToken).kid, 'test-key-1');
  });

  it('accepts the email in any case', async () => {
    const input = buildUser({ email: 'Mixed.Case@Example.com' });
    await request(service.app).post('/users').send(input).expect(201);
    await request(service.app)
      .post('/auth/login')
      .send({ email: 'mixed.case@example.com', password: input.password })
      .expect(200);
  });

  it('answers an unknown email and a wrong password with the same 401', async () => {
    const input = buildUser();
    await request(service.app).post('/users').send(input).expect(201);
    const wrongPassword = await request(service.app)
      .post('/auth/login')
      .send({ email: input.email, password: 'wrong password!' });
    const unknownEmail = await request(service.app)
      .post('/auth/login')
      .send({ email: 'nobody-here@example.com', password: input.password });

    assert.equal(wrongPassword.status, 401);
    assert.equal(unknownEmail.status, 401);
    assert.equal(wrongPassword.body.code, 'AUTH_INVALID_CREDENTIALS');
    assert.equal(wrongPassword.body.detail, unknownEmail.body.detail);
    assert.equal(wrongPassword.body.code, unknownEmail.body.code);
  });

  it('returns 400 without credentials', async () => {
    const res = await request(service.app).post('/auth/login').send({ email: 'a@example.com' });
    assert.equal(res.status, 400);
    assert.deepEqual(
      res.body.errors.map((e: { path: string }) => e.path),
      ['body.password'],
    );
  });
});

describe('GET /.well-known/jwks.json', () => {
  it('serves the public signing key only', async () => {
    const res = await request(service.app).get('/.well-known/jwks.json').expect(200);
    assert.equal(res.body.keys.length, 1);
    const [key] = res.body.keys;
    assert.equal(key.kid, 'test-key-1');
    assert.equal(key.alg, 'ES256');
    assert.equal(key.kty, 'EC');
    assert.equal(key.d, undefined);
  });
});
