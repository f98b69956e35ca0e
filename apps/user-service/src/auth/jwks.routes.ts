import { Router } from 'express';
import type { TokenService } from './tokens.ts';

/** `GET /.well-known/jwks.json`: the public keys that verify our tokens (RFC 7517). */
export function jwksRoutes(tokens: TokenService): Router {
  const router = Router();
  router.get('/.well-known/jwks.json', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').json(tokens.jwks);
  });
  return router;
}
