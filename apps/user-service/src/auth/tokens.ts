import { createPublicKey, type KeyObject } from 'node:crypto';
import {
  cachingVerifier,
  principalFromClaims,
  type Principal,
  type Role,
  type TokenVerifier,
} from '@flotilla/auth';
import {
  SignJWT,
  calculateJwkThumbprint,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importPKCS8,
  jwtVerify,
  type JWK,
  type CryptoKey,
} from 'jose';

export const TOKEN_ALGORITHM = 'ES256';
export type { Principal, Role };

export interface TokenSettings {
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

/** Issues and verifies access tokens; publishes the public key as a JWKS. */
export interface TokenService extends TokenVerifier {
  /** Signs a token for `principal`; `ttlSeconds` defaults to the configured lifetime. */
  issue(
    principal: Principal,
    nowMs: number,
    ttlSeconds?: number,
  ): Promise<{ accessToken: string; expiresIn: number }>;
  readonly jwks: { keys: JWK[] };
}

export interface SigningKey {
  privateKey: CryptoKey;
  publicKey: CryptoKey | KeyObject;
  publicJwk: JWK;
  kid: string;
  /** True when no key was configured and a throwaway one was made. */
  generated: boolean;
}

/**
 * The configured ES256 key (PKCS#8 PEM), or a new throwaway one when none is configured. Tokens
 * signed with a throwaway key die with the process and are not accepted by other replicas.
 */
export async function loadSigningKey(
  pem: string | undefined,
  kid: string | undefined,
): Promise<SigningKey> {
  let privateKey: CryptoKey;
  let publicKey: CryptoKey | KeyObject;
  if (pem) {
    privateKey = await importPKCS8(pem, TOKEN_ALGORITHM, { extractable: false });
    publicKey = createPublicKey(pem);
  } else {
    const pair = await generateKeyPair(TOKEN_ALGORITHM, { extractable: true });
    privateKey = pair.privateKey;
    publicKey = pair.publicKey;
  }
  const publicJwk = await exportJWK(publicKey);
  const keyId = kid ?? (await calculateJwkThumbprint(publicJwk));
  return {
    privateKey,
    publicKey,
    publicJwk: { ...publicJwk, kid: keyId, alg: TOKEN_ALGORITHM, use: 'sig' },
    kid: keyId,
    generated: !pem,
  };
}

/** A PKCS#8 PEM of a new ES256 key, for `JWT_PRIVATE_KEY`. */
export async function generateSigningKeyPem(): Promise<string> {
  const { privateKey } = await generateKeyPair(TOKEN_ALGORITHM, { extractable: true });
  return exportPKCS8(privateKey);
}

/** Signs with `key`; verifies against its public key, remembering verified tokens for a minute. */
export function createTokenService(key: SigningKey, settings: TokenSettings): TokenService {
  const verifier = cachingVerifier({
    async verify(token) {
      const { payload } = await jwtVerify(token, key.publicKey, {
        issuer: settings.issuer,
        audience: settings.audience,
        algorithms: [TOKEN_ALGORITHM],
      });
      return principalFromClaims(payload);
    },
  });
  return {
    async issue(principal, nowMs, ttlSeconds = settings.ttlSeconds) {
      const issuedAt = Math.floor(nowMs / 1000);
      const accessToken = await new SignJWT({ role: principal.role })
        .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid: key.kid, typ: 'JWT' })
        .setSubject(principal.userId)
        .setIssuer(settings.issuer)
        .setAudience(settings.audience)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + ttlSeconds)
        .sign(key.privateKey);
      return { accessToken, expiresIn: ttlSeconds };
    },
    verify: (token) => verifier.verify(token),
    known: (token) => verifier.known?.(token),
    jwks: { keys: [key.publicJwk] },
  };
}
