import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import { TEST_AUDIENCE, TEST_ISSUER, startTestIssuer, type TestIssuer } from './test-issuer.ts';

let issuer: TestIssuer;
before(async () => {
  issuer = await startTestIssuer();
});
after(async () => {
  await issuer.stop();
});

/** Verifies as a service does: against the issuer's JWKS, fetched fresh for each call. */
const verify = (token: string) =>
  jwtVerify(token, createRemoteJWKSet(new URL(issuer.jwksUrl)), {
    issuer: issuer.issuer,
    audience: issuer.audience,
  });

describe('startTestIssuer', () => {
  it('issues an ES256 token for the user that verifies against its JWKS', async () => {
    const token = await issuer.issue({ userId: 'user-1' });

    const { payload, protectedHeader } = await verify(token);

    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(payload.sub, 'user-1');
    assert.equal(payload['role'], 'user');
    assert.equal(payload.iss, TEST_ISSUER);
    assert.equal(payload.aud, TEST_AUDIENCE);
  });

  it('puts the requested role and lifetime in the token', async () => {
    const token = await issuer.issue({ userId: 'svc', role: 'service' }, { expiresInSeconds: 60 });

    const { payload } = await verify(token);

    assert.equal(payload['role'], 'service');
    assert.equal(payload.exp! - payload.iat!, 60);
  });

  it('issues expired tokens when asked, which verification refuses', async () => {
    const token = await issuer.issue({ userId: 'user-1' }, { expiresInSeconds: -60 });

    await assert.rejects(verify(token), errors.JWTExpired);
  });

  it('counts the JWKS fetches', async () => {
    const before = issuer.fetches;

    await verify(await issuer.issue({ userId: 'user-1' }));

    assert.equal(issuer.fetches, before + 1);
  });

  it('serves only the new key after rotate(), so tokens of the old key no longer verify', async () => {
    const old = await issuer.issue({ userId: 'user-1' });

    await issuer.rotate();
    const fresh = await issuer.issue({ userId: 'user-1' });

    assert.equal((await verify(fresh)).payload.sub, 'user-1');
    await assert.rejects(verify(old), errors.JWKSNoMatchingKey);
  });
});

describe('TestIssuer.stop', () => {
  it('closes the JWKS endpoint', async () => {
    const other = await startTestIssuer();

    await other.stop();

    await assert.rejects(fetch(other.jwksUrl));
  });
});
