import { createHash, timingSafeEqual } from 'node:crypto';
import { validate } from '@flotilla/http';
import { Router } from 'express';
import { errors } from '../errors.ts';
import { clientCredentialsBody } from '../users/users.schemas.ts';
import type { TokenService } from './tokens.ts';

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * `POST /auth/token` with the client credentials grant: a service (order-service, say) trades its
 * id and secret for a short-lived token with role `service`. Secrets are compared as SHA-256
 * digests in constant time, so neither their content nor their length leaks through timing.
 */
export function clientCredentialsRoutes(
  clients: Readonly<Record<string, string>>,
  tokens: TokenService,
  { ttlSeconds, now }: { ttlSeconds: number; now: () => number },
): Router {
  const router = Router();
  router.post('/auth/token', async (req, res) => {
    const { clientId, clientSecret } = validate(clientCredentialsBody, req.body, 'body');
    const expected = Object.hasOwn(clients, clientId) ? clients[clientId] : undefined;
    const matches = timingSafeEqual(
      digest(clientSecret),
      digest(expected ?? `no client ${clientSecret}`),
    );
    if (!expected || !matches) throw errors.create('AUTH_INVALID_CLIENT');
    const { accessToken, expiresIn } = await tokens.issue(
      { userId: clientId, role: 'service' },
      now(),
      ttlSeconds,
    );
    res.set('Cache-Control', 'no-store').json({ accessToken, tokenType: 'Bearer', expiresIn });
  });
  return router;
}
