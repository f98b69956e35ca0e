import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import request from 'supertest';
import { createLogger } from '@flotilla/logging';
import { errorHandler } from '@flotilla/http';
import { startTestIssuer, type TestIssuer } from '@flotilla/testing';
import {
  bearerToken,
  createJwksVerifier,
  principalOf,
  requireAuth,
  type TokenVerifier,
} from './auth.ts';

let issuer: TestIssuer;
before(async () => {
  issuer = await startTestIssuer();
});
after(async () => {
  await issuer.stop();
});

function verifier(overrides: { cooldownMs?: number } = {}): TokenVerifier {
  return createJwksVerifier({
    jwksUrl: issuer.jwksUrl,
    issuer: issuer.issuer,
    audience: issuer.audience,
    ...overrides,
  });
}

function appWith(v: TokenVerifier) {
  const app = express();
  app.get('/me', requireAuth(v), (req, res) => {
    res.json(principalOf(req));
  });
  app.use(errorHandler(createLogger({ service: 'test', level: 'silent' })));
  return app;
}

describe('requireAuth with a JWKS verifier', () => {
  it('sets the principal from a valid token', async () => {
    const token = await issuer.issue({ userId: 'user-1', role: 'admin' });
    const res = await request(appWith(verifier()))
      .get('/me')
      .set('Authorization', `Bearer ${token}`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { userId: 'user-1', role: 'admin' });
  });

  it('answers 401 UNAUTHENTICATED without a token, with a Bearer challenge', async () => {
    const res = await request(appWith(verifier())).get('/me');
    assert.equal(res.status, 401);
    assert.equal(res.body.code, 'UNAUTHENTICATED');
    assert.equal(res.headers['www-authenticate'], 'Bearer');
  });

  it('answers 401 TOKEN_INVALID for expired, malformed and foreign tokens', async () => {
    const app = appWith(verifier());
    const expired = await issuer.issue({ userId: 'u' }, { expiresInSeconds: -60 });
    const other = await startTestIssuer();
    const foreign = await other.issue({ userId: 'u' }, { kid: 'test-key-1' });
    await other.stop();
    for (const header of [
      `Bearer ${expired}`,
      'Bearer not-a-jwt',
      `Bearer ${foreign}`,
      'Basic abc',
    ]) {
      const res = await request(app).get('/me').set('Authorization', header);
      assert.equal(res.status, 401, header.slice(0, 20));
      assert.equal(res.body.code, 'TOKEN_INVALID');
    }
  });

  it('refuses a token without a known role', async () => {
    const token = await issuer.issue({ userId: 'u', role: 'superuser' });
    const res = await request(appWith(verifier()))
      .get('/me')
      .set('Authorization', `Bearer ${token}`);
    assert.equal(res.status, 401);
  });

  it('caches the keys and refetches once when the key rotates', async () => {
    const v = verifier({ cooldownMs: 0 });
    const app = appWith(v);
    const before = issuer.fetches;
    for (let i = 0; i < 3; i++) {
      const token = await issuer.issue({ userId: `u${i}` });
      await request(app).get('/me').set('Authorization', `Bearer ${token}`).expect(200);
    }
    assert.equal(issuer.fetches - before, 1, 'one fetch for three tokens');

    await issuer.rotate();
    const rotated = await issuer.issue({ userId: 'after-rotation' });
    await request(app).get('/me').set('Authorization', `Bearer ${rotated}`).expect(200);
    assert.equal(issuer.fetches - before, 2, 'the unknown key id triggered one refetch');
  });

  it('keeps no connection open to the JWKS after a fetch', async () => {
    const before = issuer.fetches;
    const token = await issuer.issue({ userId: 'one-fetch' });
    await verifier().verify(token);
    assert.equal(issuer.fetches - before, 1);
    // The issuer's server allows a keep-alive of 5 s: a kept connection would still be open.
    let open = await issuer.openConnections();
    for (let waited = 0; open > 0 && waited < 1000; waited += 20) {
      await sleep(20);
      open = await issuer.openConnections();
    }
    assert.equal(open, 0, 'connections to the JWKS endpoint a second after the fetch');
  });
});

describe('requireAuth with a verifier that remembers tokens', () => {
  it('takes a known token without verifying it again, and verifies an unknown one', async () => {
    const verified: string[] = [];
    const v: TokenVerifier = {
      verify(token) {
        verified.push(token);
        return Promise.resolve({ userId: 'checked', role: 'user' });
      },
      known: (token) =>
        token === 'a.b.known' ? { userId: 'remembered', role: 'user' } : undefined,
    };
    const app = appWith(v);

    const known = await request(app).get('/me').set('Authorization', 'Bearer a.b.known');
    const other = await request(app).get('/me').set('Authorization', 'Bearer a.b.other');

    assert.deepEqual([known.body.userId, other.body.userId], ['remembered', 'checked']);
    assert.deepEqual(verified, ['a.b.other']);
  });
});

describe('bearerToken', () => {
  it('reads a bearer JWT, tells absent from malformed', () => {
    assert.equal(bearerToken('Bearer a.b.c'), 'a.b.c');
    assert.equal(bearerToken(undefined), undefined);
    assert.equal(bearerToken('Bearer '), null);
    assert.equal(bearerToken('Token a.b.c'), null);
  });
});
