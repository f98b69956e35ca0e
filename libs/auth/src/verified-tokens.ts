import { decodeJwt } from 'jose';
import { LRUCache } from 'lru-cache';
import type { Principal, TokenVerifier } from './auth.ts';

export interface VerifiedTokenCacheOptions {
  /** Most tokens kept; the least recently used is dropped first. */
  max?: number;
  /** Longest a token is taken on trust after its signature was checked. */
  maxAgeMs?: number;
  now?: () => number;
}

export const DEFAULT_VERIFIED_TOKEN_CACHE = { max: 10_000, maxAgeMs: 60_000 } as const;

/**
 * A verifier that remembers the tokens it has verified, so a client that sends the same token with
 * every request has its signature checked once a minute rather than each time (an ECDSA check was
 * the larger part of an authenticated request). A token is remembered by its exact text, until
 * its `exp` or `maxAgeMs`, whichever comes first; tokens that fail are never remembered. A key
 * removed from the JWKS stops its tokens within `maxAgeMs`, which the JWKS cache's own lifetime
 * (10 minutes) already exceeds. Memory is bounded by `max`.
 */
export function cachingVerifier(
  verifier: TokenVerifier,
  {
    max = DEFAULT_VERIFIED_TOKEN_CACHE.max,
    maxAgeMs = DEFAULT_VERIFIED_TOKEN_CACHE.maxAgeMs,
    now = Date.now,
  }: VerifiedTokenCacheOptions = {},
): TokenVerifier {
  const verified = new LRUCache<string, { principal: Principal; until: number }>({ max });
  const known = (token: string, at: number) => {
    const entry = verified.get(token);
    if (entry && entry.until > at) return entry.principal;
    if (entry) verified.delete(token);
    return undefined;
  };
  return {
    known: (token) => known(token, now()),
    async verify(token) {
      const at = now();
      const trusted = known(token, at);
      if (trusted) return trusted;
      const principal = await verifier.verify(token);
      const { exp } = decodeJwt(token);
      const until = Math.min(at + maxAgeMs, typeof exp === 'number' ? exp * 1000 : Infinity);
      if (until > at) verified.set(token, { principal, until });
      return principal;
    },
  };
}
