import { commonErrors } from '@flotilla/http';
import type { RequestHandler } from 'express';
import { createRemoteJWKSet, customFetch, jwtVerify, type FetchImplementation } from 'jose';
import { Agent, fetch } from 'undici';
import { cachingVerifier, type VerifiedTokenCacheOptions } from './verified-tokens.ts';

/** `service` is another service acting through client credentials (OAuth 2.0, RFC 6749 4.4). */
export const ROLES = ['user', 'admin', 'service'] as const;
export type Role = (typeof ROLES)[number];

/** Who a verified access token speaks for. */
export interface Principal {
  userId: string;
  role: Role;
}

/** Anything that turns a bearer token into a principal, or throws. */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
  /**
   * The principal of a token this verifier has verified and still trusts, at once and without
   * any check of its own; undefined otherwise (then call `verify`).
   */
  known?(token: string): Principal | undefined;
}

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by {@link requireAuth} from a verified bearer token. */
    principal?: Principal;
    /** The raw bearer token, for forwarding to other services. */
    accessToken?: string;
  }
}

export interface JwksVerifierOptions {
  /** user-service's `/.well-known/jwks.json`. */
  jwksUrl: string;
  issuer: string;
  audience: string;
  /** How long fetched keys are trusted before they are fetched again. */
  cacheMaxAgeMs?: number;
  /**
   * Least time between two fetches, so forged key ids cannot make us hammer the JWKS: 5 s, so a
   * token of a new key (user-service restarted with another one) is accepted within 5 s of the
   * last fetch, at the cost of one fetch per 5 s at most.
   */
  cooldownMs?: number;
  timeoutMs?: number;
  /** Tokens already verified are remembered (see {@link cachingVerifier}); `false` turns it off. */
  verifiedTokens?: VerifiedTokenCacheOptions | false;
}

/**
 * Verifies ES256 access tokens against the issuer's JWKS. Keys are cached; a token with an unknown
 * key id triggers one refetch (rate-limited by `cooldownMs`), so key rotation needs no restart.
 * Verified tokens are remembered for up to a minute ({@link cachingVerifier}).
 */
export function createJwksVerifier(options: JwksVerifierOptions): TokenVerifier {
  const jwks = createRemoteJWKSet(new URL(options.jwksUrl), {
    cacheMaxAge: options.cacheMaxAgeMs ?? 10 * 60_000,
    cooldownDuration: options.cooldownMs ?? 5000,
    timeoutDuration: options.timeoutMs ?? 2000,
    [customFetch]: fetchClosingConnection,
  });
  const verifier: TokenVerifier = {
    async verify(token) {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: ['ES256'],
      });
      return principalFromClaims(payload);
    },
  };
  return options.verifiedTokens === false
    ? verifier
    : cachingVerifier(verifier, options.verifiedTokens);
}

/**
 * Key sets are fetched every ten minutes at most, so each fetch closes its connection. Node's own
 * fetch keeps it open for as long as the server allows (a minute for the kit's servers): a socket
 * to user-service beside the service's own pools (the gateway's proxy pool, say), idle for nothing.
 */
const oneRequestPerConnection = new Agent({ pipelining: 0 });

const fetchClosingConnection: FetchImplementation = (url, { headers, method, redirect, signal }) =>
  fetch(url, {
    headers: Object.fromEntries(headers),
    method,
    redirect,
    signal,
    dispatcher: oneRequestPerConnection,
  });

/** The principal in verified claims; throws when the subject or role is missing or unknown. */
export function principalFromClaims(claims: { sub?: string; [claim: string]: unknown }): Principal {
  const role = ROLES.find((r) => r === claims['role']);
  if (!claims.sub || !role) throw new Error('token lacks a subject or a known role');
  return { userId: claims.sub, role };
}

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;
const CHALLENGE = { 'WWW-Authenticate': 'Bearer' };

/** Reads `Authorization: Bearer <jwt>`: undefined when absent, null when malformed. */
export function bearerToken(header: string | undefined): string | undefined | null {
  if (!header) return undefined;
  return BEARER.exec(header)?.[1] ?? null;
}

/** Requires a valid bearer token and sets `req.principal`; 401 `UNAUTHENTICATED` or `TOKEN_INVALID` otherwise. */
export function requireAuth(verifier: TokenVerifier): RequestHandler {
  return async (req, _res, next) => {
    const token = bearerToken(req.get('authorization'));
    if (token === undefined) throw commonErrors.create('UNAUTHENTICATED', { headers: CHALLENGE });
    if (token === null) throw commonErrors.create('TOKEN_INVALID', { headers: CHALLENGE });
    const known = verifier.known?.(token);
    if (known) {
      req.principal = known;
      req.accessToken = token;
      next();
      return;
    }
    try {
      req.principal = await verifier.verify(token);
      req.accessToken = token;
    } catch (err) {
      throw commonErrors.create('TOKEN_INVALID', { cause: err, headers: CHALLENGE });
    }
    next();
  };
}

/** The principal set by {@link requireAuth}; a programming error if the route forgot it. */
export function principalOf(req: { principal?: Principal }): Principal {
  if (!req.principal) throw new Error('route is missing requireAuth');
  return req.principal;
}
