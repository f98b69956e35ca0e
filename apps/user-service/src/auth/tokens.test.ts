import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { createTokenService, generateSigningKeyPem, loadSigningKey } from './tokens.ts';

const settings = { issuer: 'flotilla-user-service', audience: 'flotilla', ttlSeconds: 900 };

describe('access tokens', () => {
  it('issues an ES256 token that verifies back to the same principal', async () => {
    const tokens = createTokenService(await loadSigningKey(undefined, undefined), settings);
    const { accessToken, expiresIn } = await tokens.issue(
      { userId: 'u-1', role: 'admin' },
      Date.now(),
    );
    assert.equal(expiresIn, 900);
    assert.deepEqual(await tokens.verify(accessToken), { userId: 'u-1', role: 'admin' });
    assert.equal(decodeProtectedHeader(accessToken).alg, 'ES256');
  });

  it('rejects an expired token', async () => {
    const tokens = createTokenService(await loadSigningKey(undefined, undefined), settings);
    const anHourAgo = Date.now() - 3600_000;
    const { accessToken } = await tokens.issue({ userId: 'u-1', role: 'user' }, anHourAgo);
    await assert.rejects(tokens.verify(accessToken), /exp/);
  });

  it('rejects a token for another audience', async () => {
    const key = await loadSigningKey(undefined, undefined);
    const other = createTokenService(key, { ...settings, audience: 'someone-else' });
    const tokens = createTokenService(key, settings);
    const { accessToken } = await other.issue({ userId: 'u-1', role: 'user' }, Date.now());
    await assert.rejects(tokens.verify(accessToken), /aud/);
  });

  it('rejects a token signed by another key', async () => {
    const ours = createTokenService(await loadSigningKey(undefined, undefined), settings);
    const theirs = createTokenService(await loadSigningKey(undefined, undefined), settings);
    const { accessToken } = await theirs.issue({ userId: 'u-1', role: 'user' }, Date.now());
    await assert.rejects(ours.verify(accessToken));
  });

  it('publishes only the public key, and the JWKS verifies issued tokens', async () => {
    const tokens = createTokenService(await loadSigningKey(undefined, undefined), settings);
    const { accessToken } = await tokens.issue({ userId: 'u-2', role: 'user' }, Date.now());
    const [jwk] = tokens.jwks.keys;
    assert.ok(jwk);
    assert.equal(jwk.d, undefined);
    assert.equal(jwk.use, 'sig');
    const { payload } = await jwtVerify(accessToken, createLocalJWKSet(tokens.jwks), {
      audience: 'flotilla',
    });
    assert.equal(payload.sub, 'u-2');
  });

  it('uses a configured PEM key and key id, so replicas sharing it accept each other', async () => {
    const pem = await generateSigningKeyPem();
    const a = createTokenService(await loadSigningKey(pem, 'key-2026'), settings);
    const b = createTokenService(await loadSigningKey(pem, 'key-2026'), settings);
    const { accessToken } = await a.issue({ userId: 'u-3', role: 'user' }, Date.now());
    assert.equal(decodeProtectedHeader(accessToken).kid, 'key-2026');
    assert.deepEqual(await b.verify(accessToken), { userId: 'u-3', role: 'user' });
  });

  it('marks a generated key, so the service can warn about it', async () => {
    assert.equal((await loadSigningKey(undefined, undefined)).generated, true);
    assert.equal((await loadSigningKey(await generateSigningKeyPem(), undefined)).generated, false);
  });
});
