import { Router } from 'express';
import type { SystemRoutes } from '@flotilla/http';
import type { TokenService } from './tokens.ts';

const JWKS_PATH = '/.well-known/jwks.json';

/** `GET /.well-known/jwks.json`: the public keys that verify our tokens (RFC 7517). */
export function jwksRoutes(tokens: TokenService): SystemRoutes {
  const router = Router();
  router.get(JWKS_PATH, (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').json(tokens.jwks);
  });
  return { paths: [JWKS_PATH], router };
}
