import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

export const TEST_ISSUER = 'flotilla-user-service';
export const TEST_AUDIENCE = 'flotilla';

/** A stand-in for user-service's token side: a real JWKS endpoint and a signer. */
export interface TestIssuer {
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly audience: string;
  /** An ES256 access token as user-service issues it. */
  issue(
    claims: { userId: string; role?: string },
    options?: { expiresInSeconds?: number; kid?: string },
  ): Promise<string>;
  /** Replaces the signing key (key rotation); the JWKS serves the new key only. */
  rotate(): Promise<void>;
  /** How many times the JWKS was fetched. */
  readonly fetches: number;
  /** Connections to the JWKS endpoint open now. */
  openConnections(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Serves `/.well-known/jwks.json` on a loopback port and signs tokens with the matching key, so
 * services that verify tokens can be tested over real HTTP without running user-service.
 */
export async function startTestIssuer(): Promise<TestIssuer> {
  let key = await newKey('test-key-1');
  let fetches = 0;
  let generation = 1;
  const server = createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') {
      fetches++;
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ keys: [key.jwk] }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    async issue({ userId, role = 'user' }, { expiresInSeconds = 900, kid } = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ role })
        .setProtectedHeader({ alg: 'ES256', kid: kid ?? key.kid, typ: 'JWT' })
        .setSubject(userId)
        .setIssuer(TEST_ISSUER)
        .setAudience(TEST_AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(now + expiresInSeconds)
        .sign(key.privateKey);
    },
    async rotate() {
      generation++;
      key = await newKey(`test-key-${generation}`);
    },
    get fetches() {
      return fetches;
    },
    openConnections: () =>
      new Promise<number>((resolve, reject) => {
        server.getConnections((err, count) => (err ? reject(err) : resolve(count)));
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function newKey(kid: string): Promise<{ kid: string; privateKey: CryptoKey; jwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return {
    kid,
    privateKey,
    jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' },
  };
}
