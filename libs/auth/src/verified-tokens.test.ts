import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import type { Principal, TokenVerifier } from './auth.ts';
import { cachingVerifier } from './verified-tokens.ts';

const key = new TextEncoder().encode('a test key that is only used to make well-formed tokens');
const NOW = Date.UTC(2026, 0, 1);

/** A token whose payload says `sub` and expires at `expSeconds` (epoch seconds). */
function token(sub: string, expSeconds: number): Promise<string> {
  return new SignJWT({ role: 'user' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setExpirationTime(expSeconds)
    .sign(key);
}

/** A verifier that counts its calls and accepts only the tokens it is told to. */
function counting(valid: Set<string>) {
  const calls: string[] = [];
  const verifier: TokenVerifier = {
    verify(t) {
      calls.push(t);
      if (!valid.has(t)) return Promise.reject(new Error('bad signature'));
      return Promise.resolve<Principal>({ userId: `user-of-${valid.size}`, role: 'user' });
    },
  };
  return { verifier, calls };
}

describe('cachingVerifier', () => {
  it('checks a token once, then answers from memory', async () => {
    const t = await token('u1', NOW / 1000 + 900);
    const { verifier, calls } = counting(new Set([t]));
    const cached = cachingVerifier(verifier, { now: () => NOW });

    const first = await cached.verify(t);
    const second = await cached.verify(t);

    assert.deepEqual(second, first);
    assert.equal(calls.length, 1);
  });

  it('never remembers a token that failed', async () => {
    const t = await token('u1', NOW / 1000 + 900);
    const { verifier, calls } = counting(new Set());
    const cached = cachingVerifier(verifier, { now: () => NOW });

    await assert.rejects(cached.verify(t), /bad signature/);
    await assert.rejects(cached.verify(t), /bad signature/);

    assert.equal(calls.length, 2);
  });

  it('checks the token again once its exp has passed', async () => {
    let at = NOW;
    const t = await token('u1', NOW / 1000 + 30);
    const valid = new Set([t]);
    const { verifier, calls } = counting(valid);
    const cached = cachingVerifier(verifier, { now: () => at });
    await cached.verify(t);

    at = NOW + 30_000;
    valid.delete(t); // as the real verifier would now say: expired
    await assert.rejects(cached.verify(t));

    assert.equal(calls.length, 2);
  });

  it('checks the token again after maxAgeMs even when it expires later', async () => {
    let at = NOW;
    const t = await token('u1', NOW / 1000 + 900);
    const { verifier, calls } = counting(new Set([t]));
    const cached = cachingVerifier(verifier, { now: () => at, maxAgeMs: 60_000 });
    await cached.verify(t);

    at = NOW + 59_999;
    await cached.verify(t);
    at = NOW + 60_000;
    await cached.verify(t);

    assert.equal(calls.length, 2);
  });

  it('keeps at most max tokens, dropping the least recently used', async () => {
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((s) => token(s, NOW / 1000 + 900)));
    const { verifier, calls } = counting(new Set([a!, b!, c!]));
    const cached = cachingVerifier(verifier, { now: () => NOW, max: 2 });

    for (const t of [a, b, a, c, a, b]) await cached.verify(t!);

    // a stays (used last before c came); b was dropped for c, so it is checked again.
    assert.deepEqual(
      calls.map((t) => [a, b, c].indexOf(t)),
      [0, 1, 2, 1],
    );
  });

  it('knows a verified token at once, and nothing of one it has not verified or no longer trusts', async () => {
    let at = NOW;
    const [t, other] = await Promise.all([
      token('u1', NOW / 1000 + 30),
      token('u2', NOW / 1000 + 900),
    ]);
    const { verifier } = counting(new Set([t, other]));
    const cached = cachingVerifier(verifier, { now: () => at });

    assert.equal(cached.known?.(t), undefined);
    const principal = await cached.verify(t);
    assert.deepEqual(cached.known?.(t), principal);
    assert.equal(cached.known?.(other), undefined);
    at = NOW + 30_000;
    assert.equal(cached.known?.(t), undefined);
  });
});
